"""Writing evaluation results: a markdown table, a picture grid and the radius-sweep plot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from engine.measure.crispness import LAYER_SIDE
from engine.measure.evaluate import DEFAULT_LABEL, row_of

COLUMNS = [
    ("retrieval", "retrieval ↑", "{:.2f}"),
    ("chamfer_px", "chamfer px ↓", "{:.2f}"),
    ("recall", "recall@2 ↑", "{:.2f}"),
    ("precision", "precision@2", "{:.2f}"),
    ("one_minus_ssim", "1-SSIM (diversity)", "{:.3f}"),
    ("l1_inside", "L1 in band", "{:.3f}"),
    ("l1_outside", "L1 outside", "{:.3f}"),
    ("detail", "detail", "{:.3f}"),
    ("detail_added", "detail added", "{:.3f}"),
    ("kid_x1000", "KID×1000 ↓", "{:.1f}"),
    ("nearest_train_rms", "nearest train RMS", "{:.3f}"),
]


def write_markdown(results: dict, path: Path) -> None:
    """The results table and the claims, as markdown."""
    lines = [
        f"{results['sketches']} held-out sketches x {results['variants_per_sketch']} variants. "
        f"Retrieval chance = {results['chance_retrieval']:.2f}; KID×1000 real-vs-real floor = "
        f"{results['kid_floor_x1000']:.1f}; held-out drawings' nearest-train RMS = "
        f"{results['real_nearest_train_rms']:.3f}; sketch detail = {results['sketch_detail']:.3f}; "
        f"the held-out drawings' detail added = {results['drawings_detail_added']:.3f}.",
        "",
        "| condition | " + " | ".join(title for _, title, _ in COLUMNS) + " |",
        "|---" * (len(COLUMNS) + 1) + "|",
    ]
    for row in results["rows"]:
        cells = [fmt.format(row[key]) for key, _, fmt in COLUMNS]
        lines.append(f"| {row['label']} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Recommended radius (the most varied one that keeps sdedit's retrieval): "
        f"{results['recommended_radius']}.",
        "",
        "| paper's claim | holds here | figures |",
        "|---|---|---|",
    ]
    for name, claim in results["claims"].items():
        lines.append(f"| {name} | {'yes' if claim['holds'] else 'no'} | {claim['figures']} |")
    if "realism" in results:
        lines += _realism_lines(results["realism"])
    if "sampling" in results:
        lines += _sampling_lines(results["sampling"])
    if "crispness" in results:
        lines += _crispness_lines(results["crispness"])
    if "other_hand" in results:
        lines += _other_hand_lines(results["other_hand"])
        lines += _style_detail_lines(results)
    Path(path).write_text("\n".join(lines) + "\n")


def _realism_lines(realism: dict) -> list[str]:
    """The realism table: variants and reference sets against held-out finished drawings."""
    lines = [
        "",
        f"Realism against held-out finished drawings of the style (frames at {realism['side']} px; "
        f"KID×1000 on thumbnail colours, hue × saturation of the paint and edge orientations; "
        f"saturation: 90th percentile over painted pixels, the drawings' own "
        f"{realism['real_saturation_p90']:.3f}). Picture: `realism.png` (drawings, their "
        "sketches, variants; at the layer's pixels).",
        "",
        "| set | KID×1000 ↓ | saturation |",
        "|---|---|---|",
    ]
    for row in realism["rows"]:
        lines.append(f"| {row['set']} | {row['kid_x1000']:.2f} | {row['saturation_p90']:.3f} |")
    lines += [
        "",
        f"Against each variant's own drawing, at the layer's pixels: line weight "
        f"{realism['line_weight']:.2f} (the variants' dark pixels over the drawings'; 1: as "
        f"heavy as drawn), colour spill {realism['colour_spill']:.4f} (mean chroma on the "
        "drawing's white paper near its paint; the drawings: 0), flat fills "
        f"{realism['flat_fills']:.2f} (share of the fill pixels whose colour is flat; the "
        f"drawings: {realism['drawings_flat_fills']:.2f}), dark fills "
        f"{realism['dark_fills']:.2f} (share of the drawing's dark pixels off the sketch's "
        "lines, solid pupils and lid bands, that the variants paint dark; the drawings: 1).",
    ]
    return lines


def _sampling_lines(sampling: dict) -> list[str]:
    """The model's own sampling path beside the paper's 16-step DDIM, on the same sketches."""
    lines = [
        "",
        f"Sampling: the model's own path against the paper's 16-step DDIM (default mask; KID "
        f"ratio {sampling['kid_ratio']:.2f}, retrieval {sampling['retrieval_difference']:+.2f}, "
        f"recall {sampling['recall_difference']:+.3f}, diversity ratio "
        f"{sampling['diversity_ratio']:.2f}):",
        "",
        "| path | solver | steps | KID×1000 ↓ | saturation | retrieval | recall | 1-SSIM |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, path in sampling["paths"].items():
        lines.append(
            f"| {name} | {path['solver']} | {path['steps']} | {path['kid_x1000']:.2f} | "
            f"{path['saturation_p90']:.3f} | {path['retrieval']:.2f} | {path['recall']:.3f} | "
            f"{path['one_minus_ssim']:.3f} |"
        )
    return lines


def _crispness_lines(crispness: dict) -> list[str]:
    """The upsampling stage's tables: against drawings rendered at the output side, and the
    whole pipeline's sharpness on sketch layers."""
    lines = [
        "",
        "Crispness against the same held-out drawings rendered at the output side:",
        "",
        "| side | method | PSNR dB ↑ | edge F1 (1 px) ↑ | sharpness / truth |",
        "|---|---|---|---|---|",
    ]
    for row in crispness["truth"]:
        lines.append(
            f"| {row['side']} | {row['method']} (from the true 64 px drawing) | "
            f"{row['psnr_db']:.1f} | {row['edge_f1']:.2f} | {row['sharpness_vs_truth']:.2f} |"
        )
    lines += [
        "",
        "The whole pipeline on sketch layers (variants differ from any drawing: sharpness only):",
        "",
        "| layer side | method | sharpness / sketch's lines ↑ | sharpness / truth | "
        "fine detail (drawing's) |",
        "|---|---|---|---|---|",
    ]
    for row in crispness["pipeline"]:
        lines.append(
            f"| {row['side']} | {row['method']} | {row['sharpness_vs_sketch']:.2f} | "
            f"{row['sharpness_vs_truth']:.2f} | {row['fine_detail']:.3f} "
            f"({row['truth_fine_detail']:.3f}) |"
        )
    guides = crispness["construction_ink"]
    lines += [
        "",
        "Construction guides in the sketch that the drawing lacks (the stage fed the true 64 px "
        f"drawing, {LAYER_SIDE} px): painted {guides['with_guides']:.3f} darker than the drawing "
        f"on them, {guides['without_guides']:.3f} on the same pixels without them in the sketch.",
        "",
        f"![one variant at 100 % zoom: sketch, blow-up, two stages]({crispness['picture']})",
    ]
    return lines


def _other_hand_lines(other: dict) -> list[str]:
    """The default variants' figures on eye sketches in another hand, each against
    its target."""
    rows = {
        "retrieval": (
            "retrieval",
            f"{other['retrieval']:.2f} (sdedit {other['sdedit_retrieval']:.2f}; chance "
            f"{other['chance_retrieval']:.2f})",
        ),
        "recall_ratio": (
            "recall against sdedit's",
            f"{other['recall_ratio']:.2f} ({other['recall']:.2f} vs {other['sdedit_recall']:.2f})",
        ),
        "detail_added": (
            "detail added beyond the strokes",
            f"{other['detail_added']:.3f} (sdedit {other['sdedit_detail_added']:.3f})",
        ),
        "crispness": ("crispness: sharpness / the sketch's lines", f"{other['crispness']:.2f}"),
    }
    intro = (
        f"{other['sketches']} eye sketches in another hand (thick near-black marker, another "
        f"construction: engine.data.other_hand) on {other['layer_side']} px layers, "
        f"{other['variants_per_sketch']} default variants each; sdedit from level 8 is the "
        "yardstick. Detail added: share of the painted pixels farther than 2 px from the "
        f"sketch's ink (all paint: {other['detail']:.3f} of the frame, the sketch's own "
        f"{other['sketch_detail']:.3f})."
    )
    if "picture" in other:
        intro += f" Picture: `{other['picture']}` (sketches, 3 variants of each below, 100 %)."
    lines = ["", "## Eye sketches in another hand", "", intro, ""]
    lines += ["| figure | value | target | met |", "|---|---|---|---|"]
    for key, (name, value) in rows.items():
        met = "yes" if other["holds"][key] else "no"
        lines.append(f"| {name} | {value} | ≥ {other['targets'][key]} | {met} |")
    return lines


def _style_detail_lines(results: dict) -> list[str]:
    """The yardstick of detail added: what the style's own finished drawings add beyond their
    sketches, beside what the default variants add beyond those same sketches."""
    default = row_of(results, DEFAULT_LABEL)
    return [
        "",
        f"On the style's own held-out sketches ({results['sketches']}), the finished drawings "
        f"add {results['drawings_detail_added']:.3f} beyond their sketch's strokes (same "
        f"measure), and the default variants {default['detail_added']:.3f}.",
    ]


def _tile(image: np.ndarray, scale: int) -> Image.Image:
    tile = Image.fromarray((np.clip(image, 0, 1) * 255).round().astype(np.uint8), "RGB")
    return tile.resize((tile.width * scale, tile.height * scale), Image.Resampling.NEAREST)


def write_grid(sketches: np.ndarray, examples: dict, path: Path, scale: int = 2) -> None:
    """Rows: conditions; columns: the sketch, then its variants (in the sketch's frame)."""
    size = sketches.shape[1] * scale
    label_width, gap = 190, 12
    variants = next(iter(examples.values())).shape[1]
    columns = 1 + variants
    block_height = len(examples) * (size + 2)
    canvas = Image.new(
        "RGB",
        (label_width + columns * (size + 2), 20 + len(sketches) * (block_height + gap)),
        "white",
    )
    draw = ImageDraw.Draw(canvas)
    draw.text((label_width, 4), "sketch | variants (seed 0, 1, ...)", fill="black")
    for s in range(len(sketches)):
        top = 20 + s * (block_height + gap)
        for r, (label, outputs) in enumerate(examples.items()):
            y = top + r * (size + 2)
            draw.text((4, y + size // 2 - 6), label, fill="black")
            canvas.paste(_tile(sketches[s], scale), (label_width, y))
            for v in range(variants):
                canvas.paste(_tile(outputs[s, v], scale), (label_width + (1 + v) * (size + 2), y))
    canvas.save(path)


def write_sweep_plot(results: dict, path: Path) -> None:
    """Retrieval, recall, diversity and detail against the mask radius, as a PNG line chart."""
    rows = [row for row in results["rows"] if row["mode"] == "mask" and not row["baseline"]]
    rows.sort(key=lambda row: row["radius"])
    radii = [row["radius"] for row in rows]
    series = [
        ("retrieval", (200, 30, 30)),
        ("recall", (30, 120, 200)),
        ("one_minus_ssim", (30, 160, 60)),
        ("detail", (150, 80, 180)),
    ]
    width, height, margin = 640, 400, 50
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    draw.rectangle([margin, margin, width - margin, height - margin], outline="black")

    def point(radius: float, value: float) -> tuple[float, float]:
        x = margin + (radius - radii[0]) / max(radii[-1] - radii[0], 1) * (width - 2 * margin)
        return x, height - margin - value * (height - 2 * margin)

    for radius in radii:
        x, _ = point(radius, 0)
        draw.text((x - 4, height - margin + 6), str(radius), fill="black")
    for tick in (0.0, 0.5, 1.0):
        _, y = point(radii[0], tick)
        draw.text((10, y - 6), f"{tick:.1f}", fill="black")
    draw.text((width // 2 - 60, height - 20), "mask radius (model px)", fill="black")
    for index, (key, colour) in enumerate(series):
        points = [point(row["radius"], min(max(row[key], 0.0), 1.0)) for row in rows]
        draw.line(points, fill=colour, width=2)
        draw.text((margin + 10 + index * 140, 15), key, fill=colour)
    canvas.save(path)
