//! Integration tests of the emulator.
