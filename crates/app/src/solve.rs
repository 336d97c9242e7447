//! `counterpart solve`: a DIMACS min-cost flow or assignment problem, solved, its certificate
//! checked, and the DIMACS solution written.

use counterpart_engine::assignment;
use counterpart_engine::dimacs::{self, ParseError, Problem};
use counterpart_engine::network::{self, CertificateError, Infeasible};
use counterpart_engine::push_relabel;
pub use counterpart_engine::push_relabel::Method;
use std::time::{Duration, Instant};

/// A solved problem: the DIMACS solution text, the solver used and the time spent solving and
/// checking the certificate (parsing excluded).
#[derive(Debug, Clone)]
pub struct Solved {
    pub output: String,
    pub method: String,
    pub elapsed: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum SolveError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("no feasible solution: {reason}{nodes}")]
    Infeasible { reason: Infeasible, nodes: String },
    /// A solver's answer failed its own certificate: a bug, reported rather than printed.
    #[error("the solver's certificate does not hold; please report this input")]
    Certificate(#[from] CertificateError),
}

/// Parse and solve DIMACS text (`p min` or `p asn`); a min-cost flow by `method`, or by the
/// solver its shape calls for.
pub fn solve_dimacs(text: &str, quiet: bool, method: Option<Method>) -> Result<Solved, SolveError> {
    let problem = dimacs::parse(text)?;
    let infeasible = |reason: Infeasible, ids: &dyn Fn(usize) -> usize| {
        let shown: Vec<String> = reason
            .uncovered
            .iter()
            .take(20)
            .map(|&v| ids(v).to_string())
            .collect();
        let nodes = if shown.is_empty() {
            String::new()
        } else {
            let more = reason.uncovered.len().saturating_sub(shown.len());
            format!(
                " (nodes {}{})",
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            )
        };
        SolveError::Infeasible { reason, nodes }
    };
    match problem {
        Problem::MinCost(net) => {
            let started = Instant::now();
            let (solution, method) = match method {
                None => push_relabel::solve_by_shape(&net),
                Some(method) => push_relabel::solve_as(&net, method),
            };
            let solution = solution.map_err(|e| infeasible(e, &|v| v + 1))?;
            network::verify(&net, &solution)?;
            let elapsed = started.elapsed();
            Ok(Solved {
                output: dimacs::write_flow(&net, &solution, quiet),
                method: method.to_string(),
                elapsed,
            })
        }
        Problem::Assignment {
            problem,
            left_ids,
            right_ids,
        } => {
            // A complete problem's cost matrix is built before the clock starts, as the peers'
            // arrays are in the solver benchmark.
            let prepared = assignment::prepare(&problem);
            let started = Instant::now();
            let (solution, method) = prepared
                .solve()
                .map_err(|e| infeasible(e, &|l| left_ids[l]))?;
            assignment::verify(&problem, &solution)?;
            let elapsed = started.elapsed();
            Ok(Solved {
                output: dimacs::write_assignment(&problem, &left_ids, &right_ids, &solution, quiet),
                method: method.to_string(),
                elapsed,
            })
        }
    }
}
