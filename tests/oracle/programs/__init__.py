"""Hand-written oracle programs, one module per subject; each module defines `PROGRAMS: list[Program]`."""
