//! Warm re-solve latency of the network simplex, for `bench/resolve.sh`: solve a DIMACS
//! `p min` problem, then repeatedly forbid (or fix) one pair by its cost and re-solve from the
//! previous optimum, timing each re-solve and checking its certificate.
//!
//! Usage: resolve_latency FILE [--changes 100]
//! Prints: `cold_ms warm_p50_ms warm_p99_ms warm_max_ms mean_pivots`.

use counterpart_engine::dimacs::{self, Problem};
use counterpart_engine::network;
use counterpart_engine::simplex::NetworkSimplex;
use std::time::Instant;

/// Time warm re-solves after single-arc cost changes.
#[derive(clap::Parser)]
struct Args {
    file: std::path::PathBuf,
    #[arg(long, default_value_t = 100)]
    changes: usize,
}

fn main() -> anyhow::Result<()> {
    let args = <Args as clap::Parser>::parse();
    let Problem::MinCost(net) = dimacs::parse(&std::fs::read_to_string(&args.file)?)? else {
        anyhow::bail!("a p min problem is needed");
    };
    let mut simplex = NetworkSimplex::new(&net);
    let t = Instant::now();
    let first = simplex.solve()?;
    let cold = t.elapsed();
    network::verify(&net, &first)?;
    let mut changed = net.clone();
    let (mut times, mut pivots) = (Vec::new(), 0u64);
    for k in 0..args.changes {
        // Alternate: forbid an arc that carries flow, then fix one that does not.
        let carrying = k % 2 == 0;
        let current = simplex.solve()?;
        let stride = (k * 7919) % changed.arcs.len();
        let Some(arc) = (0..changed.arcs.len())
            .map(|i| (i + stride) % changed.arcs.len())
            .find(|&a| (current.flow[a] > 0) == carrying)
        else {
            continue;
        };
        let original = changed.arcs[arc].cost;
        let cost = if carrying { 10_000_000 } else { -10_000_000 };
        simplex.set_cost(arc, cost);
        changed.arcs[arc].cost = cost;
        let t = Instant::now();
        let solved = simplex.solve()?;
        times.push(t.elapsed());
        pivots += simplex.pivots;
        network::verify(&changed, &solved)?;
        // Back to the original cost for the next change.
        simplex.set_cost(arc, original);
        changed.arcs[arc].cost = original;
    }
    times.sort();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    let at = |q: f64| ms(times[((times.len() as f64 * q) as usize).min(times.len() - 1)]);
    println!(
        "{:.1} {:.2} {:.2} {:.2} {:.0}",
        ms(cold),
        at(0.5),
        at(0.99),
        ms(*times.last().unwrap()),
        pivots as f64 / times.len() as f64
    );
    Ok(())
}
