"""Channels beyond the web portal: mobile OAuth, mini-program, official account, partner domains, home layouts."""
