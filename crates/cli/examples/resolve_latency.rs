//! Warm re-solve latency of the network simplex, for `bench/resolve.sh`: solve a DIMACS
//! `p min` problem, then repeatedly forbid (or fix) one pair by its cost and re-solve from the
//! previous optimum, timing each change and re-solve (to the optimum's cost, potentials and
//! flows, read where the solver keeps them) and then checking the certificate untimed.
//!
//! Usage: resolve_latency FILE [--changes 100]
//! Prints: `cold_ms setup_ms warm_p50_ms warm_p99_ms warm_max_ms mean_pivots` (setup: the
//! solver's one-time preparation for warm re-solves after the cold solve).

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
    let t = Instant::now();
    simplex.prepare_warm();
    let setup = t.elapsed();
    let mut changed = net.clone();
    let (mut times, mut pivots) = (Vec::new(), 0u64);
    for k in 0..args.changes {
        // Alternate: forbid an arc that carries flow, then fix one that does not.
        let carrying = k % 2 == 0;
        let current = simplex.optimize()?;
        let stride = (k * 7919) % changed.arcs.len();
        let Some(arc) = (0..changed.arcs.len())
            .map(|i| (i + stride) % changed.arcs.len())
            .find(|&a| (current.flow(a) > 0) == carrying)
        else {
            continue;
        };
        let original = changed.arcs[arc].cost;
        let cost = if carrying { 10_000_000 } else { -10_000_000 };
        changed.arcs[arc].cost = cost;
        let t = Instant::now();
        simplex.set_cost(arc, cost);
        let solved = simplex.optimize()?;
        std::hint::black_box((solved.cost, solved.potentials.len()));
        times.push(t.elapsed());
        let solved = solved.to_solution();
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
        "{:.1} {:.1} {:.2} {:.2} {:.2} {:.0}",
        ms(cold),
        ms(setup),
        at(0.5),
        at(0.99),
        ms(*times.last().unwrap()),
        pivots as f64 / times.len() as f64
    );
    Ok(())
}
