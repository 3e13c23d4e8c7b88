"""The ordering app: dealers order from the manufacturer's catalog at their own prices; the order desk
approves, ships and collects."""
