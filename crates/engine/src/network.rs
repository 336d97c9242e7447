//! Min-cost flow problems, their solutions, and the optimality certificate every solver returns.
//!
//! A solution is optimal exactly when node potentials `π` exist with, for every arc `u → v`,
//! reduced cost `c + π(u) − π(v)` ≥ 0 if the arc could carry more flow and ≤ 0 if it could carry
//! less (complementary slackness of the LP dual). [`verify`] checks that, plus bounds and flow
//! conservation, in one pass over the arcs.

use std::fmt;

/// An arc: from, to, lower and upper bound on its flow, cost per unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arc {
    pub from: usize,
    pub to: usize,
    pub low: i64,
    pub cap: i64,
    pub cost: i64,
}

/// A min-cost flow problem: nodes `0..supply.len()`, each with a supply (positive) or a demand
/// (negative); arcs with bounds and costs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Network {
    pub supply: Vec<i64>,
    pub arcs: Vec<Arc>,
}

impl Network {
    pub fn new(nodes: usize) -> Self {
        Network {
            supply: vec![0; nodes],
            arcs: Vec::new(),
        }
    }

    pub fn nodes(&self) -> usize {
        self.supply.len()
    }

    pub fn add_arc(&mut self, from: usize, to: usize, low: i64, cap: i64, cost: i64) -> usize {
        self.arcs.push(Arc {
            from,
            to,
            low,
            cap,
            cost,
        });
        self.arcs.len() - 1
    }

    /// The cost of a flow (one value per arc).
    pub fn cost_of(&self, flow: &[i64]) -> i128 {
        self.arcs
            .iter()
            .zip(flow)
            .map(|(a, f)| i128::from(a.cost) * i128::from(*f))
            .sum()
    }
}

/// An optimal flow with the potentials that prove it optimal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowSolution {
    /// Flow on each arc, in the order of [`Network::arcs`].
    pub flow: Vec<i64>,
    pub cost: i128,
    /// One potential per node: the certificate.
    pub potentials: Vec<i64>,
}

/// Why a problem has no feasible flow: a set of demand nodes whose demand exceeds what can
/// reach them, and by how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Infeasible {
    /// Demand nodes (sorted) that cannot all be covered: together they need `demand` units, at
    /// most `reachable` can arrive (everything else in the network is cut off from them).
    pub uncovered: Vec<usize>,
    pub demand: i64,
    pub reachable: i64,
    /// What is wrong with the input itself, when supplies and demands do not balance or bounds
    /// are inverted.
    pub reason: Reason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Total supply differs from total demand.
    Unbalanced { supply: i64, demand: i64 },
    /// An arc's lower bound exceeds its capacity.
    Bounds { arc: usize },
    /// The nodes in `uncovered` need more than the arcs into them can carry.
    Cut,
}

impl fmt::Display for Infeasible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reason {
            Reason::Unbalanced { supply, demand } => {
                write!(
                    f,
                    "total supply {supply} differs from total demand {demand}"
                )
            }
            Reason::Bounds { arc } => write!(f, "arc {arc} has a lower bound above its capacity"),
            Reason::Cut => write!(
                f,
                "{} node(s) cannot be covered: they need {} units, at most {} can reach them",
                self.uncovered.len(),
                self.demand,
                self.reachable
            ),
        }
    }
}

impl std::error::Error for Infeasible {}

/// What a certificate check found wrong, naming the arc or node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertificateError {
    Shape {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    Bounds {
        arc: usize,
        flow: i64,
    },
    Conservation {
        node: usize,
        net_out: i64,
        supply: i64,
    },
    /// The arc could carry more flow at a negative reduced cost, or less at a positive one.
    Slackness {
        arc: usize,
        reduced_cost: i128,
        flow: i64,
    },
    Cost {
        stated: i128,
        actual: i128,
    },
}

impl fmt::Display for CertificateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertificateError::Shape {
                what,
                expected,
                got,
            } => write!(f, "{what}: expected {expected} values, got {got}"),
            CertificateError::Bounds { arc, flow } => {
                write!(f, "arc {arc}: flow {flow} outside its bounds")
            }
            CertificateError::Conservation {
                node,
                net_out,
                supply,
            } => write!(f, "node {node}: net outflow {net_out}, supply {supply}"),
            CertificateError::Slackness {
                arc,
                reduced_cost,
                flow,
            } => write!(
                f,
                "arc {arc}: reduced cost {reduced_cost} with flow {flow} violates complementary slackness"
            ),
            CertificateError::Cost { stated, actual } => {
                write!(f, "stated cost {stated}, the flow costs {actual}")
            }
        }
    }
}

impl std::error::Error for CertificateError {}

/// The input checks every min-cost flow solver starts with: no arc's lower bound above its
/// capacity, and total supply equal to total demand.
pub fn check_input(network: &Network) -> Result<(), Infeasible> {
    if let Some(arc) = network.arcs.iter().position(|a| a.low > a.cap) {
        return Err(Infeasible {
            uncovered: vec![],
            demand: 0,
            reachable: 0,
            reason: Reason::Bounds { arc },
        });
    }
    let supply: i64 = network.supply.iter().filter(|s| **s > 0).sum();
    let demand: i64 = -network.supply.iter().filter(|s| **s < 0).sum::<i64>();
    if supply != demand {
        return Err(Infeasible {
            uncovered: vec![],
            demand,
            reachable: supply,
            reason: Reason::Unbalanced { supply, demand },
        });
    }
    Ok(())
}

/// Check that `solution` is a feasible flow of `network` and that its potentials prove it
/// optimal. Linear in nodes plus arcs.
pub fn verify(network: &Network, solution: &FlowSolution) -> Result<(), CertificateError> {
    let (n, m) = (network.nodes(), network.arcs.len());
    if solution.flow.len() != m {
        return Err(CertificateError::Shape {
            what: "flow",
            expected: m,
            got: solution.flow.len(),
        });
    }
    if solution.potentials.len() != n {
        return Err(CertificateError::Shape {
            what: "potentials",
            expected: n,
            got: solution.potentials.len(),
        });
    }
    let mut net_out = vec![0i64; n];
    // One pass over the arcs: bounds, conservation, slackness and the cost.
    let mut actual = 0i128;
    for (i, (a, &f)) in network.arcs.iter().zip(&solution.flow).enumerate() {
        if f < a.low || f > a.cap {
            return Err(CertificateError::Bounds { arc: i, flow: f });
        }
        net_out[a.from] += f;
        net_out[a.to] -= f;
        actual += i128::from(a.cost) * i128::from(f);
        let reduced = i128::from(a.cost) + i128::from(solution.potentials[a.from])
            - i128::from(solution.potentials[a.to]);
        if (f < a.cap && reduced < 0) || (f > a.low && reduced > 0) {
            return Err(CertificateError::Slackness {
                arc: i,
                reduced_cost: reduced,
                flow: f,
            });
        }
    }
    if let Some(node) = (0..n).find(|&v| net_out[v] != network.supply[v]) {
        return Err(CertificateError::Conservation {
            node,
            net_out: net_out[node],
            supply: network.supply[node],
        });
    }
    if actual != solution.cost {
        return Err(CertificateError::Cost {
            stated: solution.cost,
            actual,
        });
    }
    Ok(())
}
