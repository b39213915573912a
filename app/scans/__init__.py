"""Scans: the ScanRun lifecycle and run_scan() — reader → analysis → one publishing transaction."""
