//! Shared fixtures for Siteline's end-to-end tests: real site databases in temporary folders.
