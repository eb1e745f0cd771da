//! `quartier generate`: write a synthetic city (a grid for benchmarks, or the demo city).

use std::io::Write;
use std::path::Path;

use super::{print, thousands, Progress};
use crate::error::{Error, InputError};
use crate::generate::{
    grid_scenario_toml, validate_grid, write_demo_layer, write_demo_statistics, write_grid_layer,
    DemoSpec, GridSpec, DEMO_STATISTICS, LAYER_FILES,
};
use crate::io::OutputFolder;

pub fn run(
    cells: Option<u32>,
    sites: Option<u64>,
    seed: u64,
    out: &Path,
    demo: bool,
    progress: &Progress,
) -> Result<i32, Error> {
    let mut ours: Vec<&str> = LAYER_FILES.to_vec();
    ours.push("scenario.toml");
    ours.push(DEMO_STATISTICS);
    let folder = OutputFolder::prepare_for(out, &[], &ours)?;
    let mut counts = Vec::new();
    if demo {
        let spec = DemoSpec { seed };
        for layer in LAYER_FILES {
            progress.step(&format!("writing {layer}"));
            let mut written = 0;
            folder.write(layer, |w| {
                written = write_demo_layer(&spec, layer, w)?;
                Ok(())
            })?;
            counts.push((layer, written));
        }
        progress.step(&format!("writing {DEMO_STATISTICS}"));
        let mut written = 0;
        folder.write(DEMO_STATISTICS, |w| {
            written = write_demo_statistics(&spec, w)?;
            Ok(())
        })?;
        counts.push((DEMO_STATISTICS, written));
    } else {
        let spec = GridSpec {
            cells: cells.unwrap_or(0),
            sites: sites.unwrap_or(0),
            seed,
        };
        validate_grid(&spec).map_err(|m| InputError::new("quartier generate", m))?;
        for layer in LAYER_FILES {
            progress.step(&format!("writing {layer}"));
            let mut written = 0;
            folder.write(layer, |w| {
                written = write_grid_layer(&spec, layer, w)?;
                Ok(())
            })?;
            counts.push((layer, written));
        }
        folder.write("scenario.toml", |w| {
            w.write_all(grid_scenario_toml(&spec).as_bytes())
        })?;
    }
    let target = folder.commit()?;
    progress.finish();
    let mut text = format!("written to {}/\n", target.display());
    for (layer, n) in counts {
        let what = if layer.ends_with(".csv") {
            "district rows and a totals row"
        } else {
            "features"
        };
        text += &format!("  {layer}: {} {what}\n", thousands(n));
    }
    print(&text);
    Ok(0)
}
