"""The model's own sampling path against the paper's 16-step DDIM one, on the same sketches."""

from __future__ import annotations

from engine.config import PAPER_SAMPLING
from engine.measure.realism import HeldOut, measure_realism

VARIANTS_ROW = "variants (default settings)"


def compare_sampling(
    engine,
    default_row: dict,
    score_paper_path,
    held_out: HeldOut,
    sketch_count: int,
    count: int,
    default_realism: dict,
) -> dict:
    """Realism, fidelity and diversity of the model's default path and of the 16-step one.

    default_row: evaluate's default mask row (the model's own path); score_paper_path(engine)
    scores the same condition on another engine; default_realism: the realism already measured
    on the model's path. Returns both paths' figures and the few-step path's ratios.
    """
    paper = engine.sampled_with(PAPER_SAMPLING)
    paper_row = score_paper_path(paper)
    paper_realism = measure_realism(paper, held_out, sketch_count, count, None)
    paths = {}
    for name, source, row, realism in (
        ("model's own", engine, default_row, default_realism),
        ("16-step DDIM", paper, paper_row, paper_realism),
    ):
        variants = next(r for r in realism["rows"] if r["set"] == VARIANTS_ROW)
        paths[name] = {
            "solver": source.config.sampling.solver,
            "steps": source.config.sampling.steps,
            "kid_x1000": variants["kid_x1000"],
            "saturation_p90": variants["saturation_p90"],
            "retrieval": row["retrieval"],
            "recall": row["recall"],
            "one_minus_ssim": row["one_minus_ssim"],
        }
    own, sixteen = paths["model's own"], paths["16-step DDIM"]
    return {
        "paths": paths,
        "kid_ratio": own["kid_x1000"] / max(sixteen["kid_x1000"], 1e-9),
        "retrieval_difference": own["retrieval"] - sixteen["retrieval"],
        "recall_difference": own["recall"] - sixteen["recall"],
        "diversity_ratio": own["one_minus_ssim"] / max(sixteen["one_minus_ssim"], 1e-9),
    }
