//! `--plot FILE.svg`: the objective against the decided price, with the optimum marked.

use std::path::Path;

use plotters::prelude::*;

/// Draws `curve` (price, objective) and the chosen `(price, objective)` to an SVG file.
pub fn profit_curve(
    path: &Path,
    title: &str,
    y_desc: &str,
    curve: &[(f64, f64)],
    chosen: (f64, f64),
) -> Result<(), String> {
    if curve.len() < 2 {
        return Err("the curve has fewer than two points".into());
    }
    let (x0, x1) = (curve[0].0, curve[curve.len() - 1].0);
    let lo = curve.iter().map(|c| c.1).fold(chosen.1, f64::min);
    let hi = curve.iter().map(|c| c.1).fold(chosen.1, f64::max);
    let pad = ((hi - lo) * 0.05).max(1e-12);
    let root = SVGBackend::new(path, (900, 540)).into_drawing_area();
    let draw = || -> Result<(), Box<dyn std::error::Error + '_>> {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(90)
            .build_cartesian_2d(x0..x1, (lo - pad)..(hi + pad))?;
        chart
            .configure_mesh()
            .x_desc("price (usd/mtok)")
            .y_desc(y_desc)
            .y_label_formatter(&|v| prillm_compiler::summary::num(*v))
            .draw()?;
        chart.draw_series(LineSeries::new(curve.iter().copied(), &BLUE))?;
        chart.draw_series(std::iter::once(Circle::new(chosen, 6, RED.filled())))?;
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| format!("cannot draw `{}`: {e}", path.display()))
}
