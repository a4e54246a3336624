"""`python -m engine evaluate`: the paper's experiments on held-out sketches."""

from __future__ import annotations

import argparse

from engine.errors import EngineError


def run(args: argparse.Namespace) -> int:
    """Load the model (and the baseline), run the experiments, and say where the report is."""
    if args.sketches < 2 or args.count < 2:
        raise EngineError("--sketches and --count must be at least 2 (retrieval and diversity)")
    from engine.measure.evaluate import run_evaluation
    from engine.pipeline import Engine

    engine = Engine.load(args.model, args.precision)
    baseline = Engine.load(args.baseline, args.precision) if args.baseline is not None else None
    results = run_evaluation(engine, baseline, args.out, args.sketches, args.count)
    for name, claim in results["claims"].items():
        print(f"{name}: {'holds' if claim['holds'] else 'does not hold'} ({claim['figures']})")
    print(f"recommended radius: {results['recommended_radius']}")
    print(f"report written to {args.out / 'report.md'}")
    return 0
