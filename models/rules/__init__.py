"""Pure rules: standard library only, no I/O. Everything here takes `now` as an argument."""
