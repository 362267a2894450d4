"""What every app shares and nothing app-specific: the application error base and its handlers."""
