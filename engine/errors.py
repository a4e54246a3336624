"""Errors the engine reports to people: one line that names the problem."""


class EngineError(ValueError):
    """Bad input or a broken model file; the message is shown to the user as it is."""


class Cancelled(Exception):
    """A generation was cancelled by its caller between two denoising steps."""
