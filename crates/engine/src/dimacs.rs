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
    let mut parser = Parser::default();
    let mut last = 0;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        last = line;
        let mut words = raw.split_ascii_whitespace();
        let Some(tag) = words.next() else { continue };
        let fields = Fields {
            tag,
            line,
            words: words.collect(),
        };
        match tag {
            "c" => {}
            "p" => parser.problem_line(&fields)?,
            "n" | "a" => parser.node_or_arc(&fields)?,
            other => return Err(fields.err(format!("unknown line type {other:?}"))),
        }
    }
    parser.finish(last.max(1))
}

/// The fields of one line after its tag.
struct Fields<'a> {
    tag: &'a str,
    line: usize,
    words: Vec<&'a str>,
}

impl Fields<'_> {
    fn err(&self, message: String) -> ParseError {
        ParseError {
            line: self.line,
            message,
        }
    }

    fn number(&self, i: usize, what: &str) -> Result<i64, ParseError> {
        let text = self
            .words
            .get(i)
            .ok_or_else(|| self.err(format!("missing {what}")))?;
        text.parse::<i64>()
            .map_err(|_| self.err(format!("{what} {text:?} is not an integer")))
    }

    fn count(&self, want: usize) -> Result<(), ParseError> {
        if self.words.len() == want {
            Ok(())
        } else {
            Err(self.err(format!(
                "a {:?} line has {want} fields after the tag, this one has {}",
                self.tag,
                self.words.len()
            )))
        }
    }

    /// Field `i` as a node index (from 0), given `nodes` nodes numbered from 1.
    fn node(&self, i: usize, what: &str, nodes: usize) -> Result<usize, ParseError> {
        let id = self.number(i, what)?;
        if id < 1 || id as usize > nodes {
            return Err(self.err(format!("{what} {id} is not a node (1 to {nodes})")));
        }
        Ok(id as usize - 1)
    }
}

/// What the lines so far have said.
#[derive(Default)]
struct Parser {
    header: Option<(Kind, usize, usize)>,
    network: Network,
    /// Nodes with an `n` line.
    named: Vec<bool>,
    /// An assignment's left-side nodes.
    left: Vec<usize>,
    asn_arcs: Vec<(usize, usize, i64)>,
    arcs: usize,
}

impl Parser {
    fn problem_line(&mut self, f: &Fields) -> Result<(), ParseError> {
        if self.header.is_some() {
            return Err(f.err("a second problem line".into()));
        }
        f.count(3)?;
        let kind = match f.words[0] {
            "min" => Kind::Min,
            "asn" => Kind::Asn,
            other => {
                return Err(f.err(format!(
                    "problem type {other:?}: only \"min\" and \"asn\" are read"
                )));
            }
        };
        let nodes = f.number(1, "node count")?;
        let declared = f.number(2, "arc count")?;
        if !(0..=100_000_000).contains(&nodes) || !(0..=1_000_000_000).contains(&declared) {
            return Err(f.err("node or arc count out of range".into()));
        }
        let nodes = nodes as usize;
        self.network.supply = vec![0; nodes];
        self.named = vec![false; nodes];
        self.header = Some((kind, nodes, declared as usize));
        Ok(())
    }

    fn node_or_arc(&mut self, f: &Fields) -> Result<(), ParseError> {
        let Some((kind, nodes, declared)) = &self.header else {
            return Err(f.err(format!("a {:?} line before the problem line", f.tag)));
        };
        let (nodes, declared) = (*nodes, *declared);
        match (f.tag, kind) {
            ("n", Kind::Min) => {
                f.count(2)?;
                let v = self.name(f, nodes)?;
                self.network.supply[v] = f.number(1, "supply")?;
            }
            ("n", Kind::Asn) => {
                f.count(1)?;
                let v = self.name(f, nodes)?;
                self.left.push(v);
            }
            (_, Kind::Min) => {
                f.count(5)?;
                let (from, to) = (f.node(0, "source", nodes)?, f.node(1, "target", nodes)?);
                let (low, cap, cost) = (
                    f.number(2, "lower bound")?,
                    f.number(3, "capacity")?,
                    f.number(4, "cost")?,
                );
                if low < 0 || cap < low {
                    return Err(f.err(format!(
                        "bounds {low}..{cap}: need 0 ≤ lower bound ≤ capacity"
                    )));
                }
                self.network.add_arc(from, to, low, cap, cost);
                self.arcs += 1;
            }
            (_, Kind::Asn) => {
                f.count(3)?;
                let (from, to) = (f.node(0, "source", nodes)?, f.node(1, "target", nodes)?);
                if !self.named[from] {
                    return Err(f.err(format!(
                        "source {} is not a left-side node (no \"n {}\" line before it)",
                        from + 1,
                        from + 1
                    )));
                }
                if self.named[to] {
                    return Err(f.err(format!("target {} is a left-side node", to + 1)));
                }
                self.asn_arcs.push((from, to, f.number(2, "cost")?));
                self.arcs += 1;
            }
        }
        if self.arcs > declared {
            return Err(f.err(format!("more arcs than the {declared} declared")));
        }
        Ok(())
    }

    /// The node of an `n` line, described for the first time.
    fn name(&mut self, f: &Fields, nodes: usize) -> Result<usize, ParseError> {
        let v = f.node(0, "node", nodes)?;
        if self.named[v] {
            return Err(f.err(format!("node {} is described twice", v + 1)));
        }
        self.named[v] = true;
        Ok(v)
    }

    /// The problem, once every line is read (`last`: the last line's number).
    fn finish(self, last: usize) -> Result<Problem, ParseError> {
        let Some((kind, nodes, declared)) = self.header else {
            return Err(ParseError {
                line: last,
                message: "no problem line (\"p min N M\" or \"p asn N M\")".into(),
            });
        };
        if self.arcs != declared {
            return Err(ParseError {
                line: last,
                message: format!("{} arcs, {declared} declared", self.arcs),
            });
        }
        Ok(match kind {
            Kind::Min => Problem::MinCost(self.network),
            Kind::Asn => {
                let (mut left, named) = (self.left, self.named);
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
                    arcs: self
                        .asn_arcs
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
