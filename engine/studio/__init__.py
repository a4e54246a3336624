"""A studio's engine: the same HTTP API, its model work on a Ray cluster's replicas.

The only package that imports Ray (an optional extra: pip install -e '.[studio]').
"""
