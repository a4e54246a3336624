"""Offline measurements, never imported by the engine that serves artists: the paper's claims
(evaluate, metrics, report), crispness at the layer's resolution, and the speed benchmark."""
