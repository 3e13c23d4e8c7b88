"""Settlement of service partners' work: fee schedule, settlements, disputes, approval."""
