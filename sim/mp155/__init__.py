"""MP155 Comms Hub re-flash: supplier stock, Work Orders, CSP re-flash, strategy costs."""
