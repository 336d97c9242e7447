//! The DIMACS formats of the first implementation challenge:
//!
//! - `p min NODES ARCS`, then `n ID SUPPLY` (positive supply, negative demand; nodes not named
//!   have zero) and `a SRC DST LOW CAP COST`;
//! - `p asn NODES ARCS`, then `n ID` for each left-side node and `a SRC DST COST` from a left
//!   node to a right one.
//!
//! Nodes are numbered from 1; `c` lines and blank lines are comments. Every malformed line is
//! refused with its line number. The solution format is `s COST`, then `f SRC DST FLOW` for
//! each arc with positive flow.

use crate::assignment::{Assignment, AssignmentSolution};
use crate::network::{FlowSolution, Network};
use std::fmt::{self, Write as _};

/// A parsed problem, with the DIMACS id of every node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    MinCost(Network),
    /// The assignment and, per side, the DIMACS id of each node.
    Assignment {
        problem: Assignment,
        left_ids: Vec<usize>,
        right_ids: Vec<usize>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

enum Kind {
    Min,
    Asn,
}

/// Parse a DIMACS `p min` or `p asn` problem.
pub fn parse(text: &str) -> Result<Problem, ParseError> {
    let mut header: Option<(Kind, usize, usize)> = None;
    let mut network = Network::default();
    let mut named = Vec::new();
    let mut left = Vec::new();
    let mut asn_arcs: Vec<(usize, usize, i64)> = Vec::new();
    let mut arcs = 0usize;
    let mut last = 0;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        last = line;
        let err = |message: String| ParseError { line, message };
        let mut fields = raw.split_ascii_whitespace();
        let Some(tag) = fields.next() else { continue };
        let fields: Vec<&str> = fields.collect();
        let number = |i: usize, what: &str| -> Result<i64, ParseError> {
            let text = fields
                .get(i)
                .ok_or_else(|| err(format!("missing {what}")))?;
            text.parse::<i64>()
                .map_err(|_| err(format!("{what} {text:?} is not an integer")))
        };
        let count = |want: usize| {
            if fields.len() == want {
                Ok(())
            } else {
                Err(err(format!(
                    "a {tag:?} line has {want} fields after the tag, this one has {}",
                    fields.len()
                )))
            }
        };
        match tag {
            "c" => {}
            "p" => {
                if header.is_some() {
                    return Err(err("a second problem line".into()));
                }
                count(3)?;
                let kind = match fields[0] {
                    "min" => Kind::Min,
                    "asn" => Kind::Asn,
                    other => {
                        return Err(err(format!(
                            "problem type {other:?}: only \"min\" and \"asn\" are read"
                        )));
                    }
                };
                let nodes = number(1, "node count")?;
                let declared = number(2, "arc count")?;
                if !(0..=100_000_000).contains(&nodes) || !(0..=1_000_000_000).contains(&declared) {
                    return Err(err("node or arc count out of range".into()));
                }
                let nodes = nodes as usize;
                network.supply = vec![0; nodes];
                named = vec![false; nodes];
                header = Some((kind, nodes, declared as usize));
            }
            "n" | "a" => {
                let Some((kind, nodes, declared)) = &header else {
                    return Err(err(format!("a {tag:?} line before the problem line")));
                };
                let node = |i: usize, what: &str| -> Result<usize, ParseError> {
                    let id = number(i, what)?;
                    if id < 1 || id as usize > *nodes {
                        return Err(err(format!("{what} {id} is not a node (1 to {nodes})")));
                    }
                    Ok(id as usize - 1)
                };
                match (tag, kind) {
                    ("n", Kind::Min) => {
                        count(2)?;
                        let v = node(0, "node")?;
                        if named[v] {
                            return Err(err(format!("node {} is described twice", v + 1)));
                        }
                        named[v] = true;
                        network.supply[v] = number(1, "supply")?;
                    }
                    ("n", Kind::Asn) => {
                        count(1)?;
                        let v = node(0, "node")?;
                        if named[v] {
                            return Err(err(format!("node {} is described twice", v + 1)));
                        }
                        named[v] = true;
                        left.push(v);
                    }
                    (_, Kind::Min) => {
                        count(5)?;
                        let (from, to) = (node(0, "source")?, node(1, "target")?);
                        let (low, cap, cost) = (
                            number(2, "lower bound")?,
                            number(3, "capacity")?,
                            number(4, "cost")?,
                        );
                        if low < 0 || cap < low {
                            return Err(err(format!(
                                "bounds {low}..{cap}: need 0 ≤ lower bound ≤ capacity"
                            )));
                        }
                        network.add_arc(from, to, low, cap, cost);
                        arcs += 1;
                    }
                    (_, Kind::Asn) => {
                        count(3)?;
                        let (from, to) = (node(0, "source")?, node(1, "target")?);
                        if !named[from] {
                            return Err(err(format!(
                                "source {} is not a left-side node (no \"n {}\" line before it)",
                                from + 1,
                                from + 1
                            )));
                        }
                        if named[to] {
                            return Err(err(format!("target {} is a left-side node", to + 1)));
                        }
                        asn_arcs.push((from, to, number(2, "cost")?));
                        arcs += 1;
                    }
                }
                if arcs > *declared {
                    return Err(err(format!("more arcs than the {declared} declared")));
                }
            }
            other => return Err(err(format!("unknown line type {other:?}"))),
        }
    }
    let Some((kind, nodes, declared)) = header else {
        return Err(ParseError {
            line: last.max(1),
            message: "no problem line (\"p min N M\" or \"p asn N M\")".into(),
        });
    };
    if arcs != declared {
        return Err(ParseError {
            line: last.max(1),
            message: format!("{arcs} arcs, {declared} declared"),
        });
    }
    Ok(match kind {
        Kind::Min => Problem::MinCost(network),
        Kind::Asn => {
            let mut index = vec![usize::MAX; nodes];
            left.sort_unstable();
            for (i, &v) in left.iter().enumerate() {
                index[v] = i;
            }
            let right_ids: Vec<usize> = (0..nodes).filter(|&v| !named[v]).collect();
            for (i, &v) in right_ids.iter().enumerate() {
                index[v] = i;
            }
            let problem = Assignment {
                left: left.len(),
                right: right_ids.len(),
                arcs: asn_arcs
                    .into_iter()
                    .map(|(l, r, c)| (index[l], index[r], c))
                    .collect(),
            };
            Problem::Assignment {
                problem,
                left_ids: left.iter().map(|v| v + 1).collect(),
                right_ids: right_ids.iter().map(|v| v + 1).collect(),
            }
        }
    })
}

/// The DIMACS solution of a min-cost flow.
pub fn write_flow(network: &Network, solution: &FlowSolution, quiet: bool) -> String {
    let mut out = format!("s {}\n", solution.cost);
    if !quiet {
        for (a, &f) in network.arcs.iter().zip(&solution.flow) {
            if f > 0 {
                let _ = writeln!(out, "f {} {} {}", a.from + 1, a.to + 1, f);
            }
        }
    }
    out
}

/// The DIMACS solution of an assignment, in DIMACS node ids.
pub fn write_assignment(
    problem: &Assignment,
    left_ids: &[usize],
    right_ids: &[usize],
    solution: &AssignmentSolution,
    quiet: bool,
) -> String {
    let mut out = format!("s {}\n", solution.cost);
    if !quiet {
        for &k in &solution.chosen {
            let (l, r, _) = problem.arcs[k];
            let _ = writeln!(out, "f {} {} 1", left_ids[l], right_ids[r]);
        }
    }
    out
}
