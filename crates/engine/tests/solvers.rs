//! Every solver against brute force on tiny problems and against the successive-shortest-path
//! reference on larger ones; every answer certificate-checked; the DIMACS parser against
//! malformed and random input.

use counterpart_engine::assignment::{self, Assignment};
use counterpart_engine::dimacs::{self, Problem};
use counterpart_engine::network::{self, Network, Reason};
use counterpart_engine::push_relabel;
use counterpart_engine::seats;
use counterpart_engine::ssp;
use proptest::prelude::*;

/// The cheapest full assignment by trying every one, or None when there is none.
fn brute_assignment(p: &Assignment) -> Option<i128> {
    fn go(p: &Assignment, l: usize, used: &mut Vec<bool>, cost: i128, best: &mut Option<i128>) {
        if l == p.left {
            *best = Some(best.map_or(cost, |b| b.min(cost)));
            return;
        }
        for &(from, r, c) in &p.arcs {
            if from == l && !used[r] {
                used[r] = true;
                go(p, l + 1, used, cost + i128::from(c), best);
                used[r] = false;
            }
        }
    }
    let mut best = None;
    go(p, 0, &mut vec![false; p.right], 0, &mut best);
    best
}

/// The cheapest feasible flow by trying every flow value on every arc.
fn brute_flow(n: &Network) -> Option<i128> {
    fn go(n: &Network, k: usize, flow: &mut Vec<i64>, best: &mut Option<i128>) {
        if k == n.arcs.len() {
            let mut net = vec![0i64; n.nodes()];
            for (a, f) in n.arcs.iter().zip(flow.iter()) {
                net[a.from] += f;
                net[a.to] -= f;
            }
            if net == n.supply {
                let cost = n.cost_of(flow);
                *best = Some(best.map_or(cost, |b| b.min(cost)));
            }
            return;
        }
        for f in n.arcs[k].low..=n.arcs[k].cap {
            flow[k] = f;
            go(n, k + 1, flow, best);
        }
    }
    let mut best = None;
    go(n, 0, &mut vec![0; n.arcs.len()], &mut best);
    best
}

/// A small seeded generator: `next(bound)` is in `0..bound` (0 when `bound` is 0).
fn xorshift(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut rng = seed.max(1);
    move |bound: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % bound.max(1)
    }
}

fn assignment_problem(
    max_left: usize,
    max_extra: usize,
    density: f64,
    costs: i64,
) -> impl Strategy<Value = Assignment> {
    (1..=max_left, 0..=max_extra).prop_flat_map(move |(left, extra)| {
        let right = left + extra;
        proptest::collection::vec(
            (proptest::bool::weighted(density), -costs..=costs),
            left * right,
        )
        .prop_map(move |cells| Assignment {
            left,
            right,
            arcs: cells
                .iter()
                .enumerate()
                .filter(|(_, (present, _))| *present)
                .map(|(i, (_, c))| (i / right, i % right, *c))
                .collect(),
        })
    })
}

fn small_network() -> impl Strategy<Value = Network> {
    (2..=5usize).prop_flat_map(|nodes| {
        let arc = (0..nodes, 0..nodes, 0..=1i64, 0..=3i64, -4..=9i64);
        (
            proptest::collection::vec(arc, 1..=6),
            proptest::collection::vec(-3..=3i64, nodes - 1),
        )
            .prop_map(move |(arcs, mut supply)| {
                let last = -supply.iter().sum::<i64>();
                supply.push(last);
                let mut n = Network::new(nodes);
                n.supply = supply;
                for (from, to, low, extra, cost) in arcs {
                    if from != to {
                        n.add_arc(from, to, low, low + extra, cost);
                    }
                }
                n
            })
    })
}

/// People with up to five candidate posts (some arcs doubled, some with room for two) and
/// perhaps an unplaced arc each, posts with one to three seats (one post's arc to the sink
/// costing something), one sink.
fn seats_network(
    people: usize,
    posts: usize,
    seed: u64,
    unplaced_cost: Option<i64>,
    costs: i64,
) -> Network {
    let mut next = xorshift(seed);
    let sink = people + posts;
    let mut n = Network::new(sink + 1);
    for p in 0..people {
        n.supply[p] = 1;
        for _ in 0..next(6) {
            let cap = 1 + i64::from(next(10) == 0);
            n.add_arc(
                p,
                people + next(posts as u64) as usize,
                0,
                cap,
                next(costs as u64 + 1) as i64,
            );
        }
        if let Some(c) = unplaced_cost {
            n.add_arc(p, sink, 0, 1 + i64::from(p % 7 == 0), c);
        }
    }
    for q in 0..posts {
        let cost = if q == 0 {
            next(costs as u64 + 1) as i64
        } else {
            0
        };
        n.add_arc(people + q, sink, 0, 1 + next(3) as i64, cost);
    }
    n.supply[sink] = -(people as i64);
    n
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn assignment_matches_brute_force(p in assignment_problem(6, 2, 0.7, 50)) {
        let best = brute_assignment(&p);
        for solved in [assignment::solve_dense(&p), assignment::solve_sparse(&p), assignment::solve_scaling(&p)] {
            match (&solved, best) {
                (Ok(s), Some(b)) => {
                    assignment::verify(&p, s).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    prop_assert_eq!(s.cost, b);
                }
                (Err(e), None) => {
                    prop_assert!(!e.uncovered.is_empty());
                    prop_assert!(e.reachable < e.demand, "{}", e);
                }
                (got, want) => prop_assert!(false, "solver {:?}, brute force {:?}", got, want),
            }
        }
    }

    #[test]
    fn min_cost_flow_matches_brute_force(n in small_network()) {
        let best = brute_flow(&n);
        for solved in [ssp::solve(&n), counterpart_engine::simplex::solve(&n), push_relabel::solve(&n)] {
            match (solved, best) {
                (Ok(s), Some(b)) => {
                    network::verify(&n, &s).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    prop_assert_eq!(s.cost, b);
                }
                (Err(_), None) => {}
                (got, want) => prop_assert!(false, "solver {:?}, brute force {:?}", got, want),
            }
        }
    }

    /// Transshipment networks (the NETGEN, GRIDGEN and GOTO families' shape): chains and
    /// cycles through nodes with no supply, one or several sources and sinks, arcs both ways,
    /// negative costs, lower bounds; deep trees, so every branch of the thread update runs.
    /// The network simplex (each solver the shape-based choice may pick) equals the reference.
    #[test]
    fn the_simplex_solves_transshipment_networks_as_the_reference(
        nodes in 2..120usize,
        extra in 0..400usize,
        sources in 1..4usize,
        seed in any::<u64>(),
    ) {
        use counterpart_engine::simplex::NetworkSimplex;
        let mut next = xorshift(seed);
        let mut n = Network::new(nodes);
        // A chain through every node (some of it wide), so a single source can reach far.
        for v in 1..nodes {
            let (a, b) = if next(4) == 0 { (v, v - 1) } else { (v - 1, v) };
            n.add_arc(a, b, 0, 1 + next(30) as i64, next(200) as i64 - 20);
        }
        for _ in 0..extra {
            let (a, b) = (next(nodes as u64) as usize, next(nodes as u64) as usize);
            if a != b {
                let low = i64::from(next(30) == 0);
                n.add_arc(a, b, low, low + next(12) as i64, next(300) as i64 - 30);
            }
        }
        for k in 0..sources.min(nodes / 2).max(1) {
            let amount = 1 + next(25) as i64;
            n.supply[k] += amount;
            n.supply[nodes - 1 - k] -= amount;
        }
        let reference = ssp::solve(&n);
        let mut simplex = NetworkSimplex::new(&n);
        let answer = simplex.solve();
        let (chosen, _) = push_relabel::solve_by_shape(&n);
        match (&reference, &answer) {
            (Ok(a), Ok(b)) => {
                network::verify(&n, b).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(a.cost, b.cost);
                prop_assert_eq!(chosen.map(|c| c.cost).ok(), Some(a.cost));
            }
            (Err(_), Err(_)) => prop_assert!(chosen.is_err()),
            _ => prop_assert!(false, "feasibility differs: {:?} vs {:?}", reference.is_ok(), answer.is_ok()),
        }
    }

    /// The network simplex against the reference on transport problems up to 30 × 60, then
    /// re-solved warm after each of a run of cost changes: an arc made prohibitive (forbidden),
    /// very cheap (fixed), given a new cost, or put back. Each warm answer equals a cold solve of
    /// the changed problem by the reference and its certificate checks. Some arcs have a lower
    /// bound of one unit (a fixed pair in the pairing model).
    #[test]
    fn simplex_agrees_with_the_reference_and_re_solves_warm(
        providers in 1..30usize,
        recipients in 1..60usize,
        seed in any::<u64>(),
        changes in proptest::collection::vec((0..10_000usize, 0..4u8, -100..1000i64), 1..8),
    ) {
        use counterpart_engine::simplex::NetworkSimplex;
        let mut next = xorshift(seed);
        let nodes = providers + recipients;
        let mut n = Network::new(nodes);
        let mut demand = 0;
        for r in 0..recipients {
            let need = 1 + next(5) as i64;
            n.supply[providers + r] = -need;
            demand += need;
        }
        // Capacity to spare, spread over the providers.
        for p in 0..providers {
            n.supply[p] = demand / providers as i64 + i64::from(p < (demand % providers as i64) as usize);
        }
        // Every provider can reach every recipient, some cheaply, with capacity to spare.
        for p in 0..providers {
            for r in 0..recipients {
                let low = i64::from(next(40) == 0);
                n.add_arc(p, providers + r, low, 1 + next(6) as i64, next(1000) as i64 - 100);
            }
        }
        let reference = ssp::solve(&n);
        let mut simplex = NetworkSimplex::new(&n);
        let cold = simplex.solve();
        match (&reference, &cold) {
            (Ok(a), Ok(b)) => {
                network::verify(&n, b).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(a.cost, b.cost);
                let scaled = push_relabel::attempt(&n);
                prop_assert!(scaled.is_some(), "cost scaling did not answer a feasible problem");
                let scaled = scaled.unwrap();
                network::verify(&n, &scaled).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(a.cost, scaled.cost);
            }
            (Err(_), Err(_)) => return Ok(()),
            _ => prop_assert!(false, "feasibility differs"),
        }
        let mut changed = n.clone();
        for (at, kind, value) in changes {
            let arc = at % n.arcs.len();
            let cost = match kind {
                0 => 1_000_000,
                1 => -1_000_000,
                2 => value,
                _ => n.arcs[arc].cost,
            };
            simplex.set_cost(arc, cost);
            changed.arcs[arc].cost = cost;
            let fresh = ssp::solve(&changed);
            let warm = simplex.optimize().map(|o| o.to_solution());
            match (&warm, &fresh) {
                (Ok(w), Ok(f)) => {
                    network::verify(&changed, w).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    prop_assert_eq!(w.cost, f.cost);
                    // Solving again with nothing changed gives the same answer.
                    let again = simplex.solve().map_err(|e| TestCaseError::fail(e.to_string()))?;
                    prop_assert_eq!(&again, w);
                }
                _ => prop_assert!(false, "warm {:?} fresh {:?}", warm.is_ok(), fresh.is_ok()),
            }
        }
    }

    #[test]
    fn dense_and_sparse_agree_up_to_200(p in assignment_problem(200, 20, 0.9, 1_000)) {
        let dense = assignment::solve_dense(&p);
        let sparse = assignment::solve_sparse(&p);
        match (&dense, &sparse) {
            (Ok(d), Ok(s)) => {
                assignment::verify(&p, d).map_err(|e| TestCaseError::fail(e.to_string()))?;
                assignment::verify(&p, s).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(d.cost, s.cost);
            }
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            _ => prop_assert!(false, "dense {:?} and sparse {:?} disagree on feasibility", dense.is_ok(), sparse.is_ok()),
        }
    }

    /// Complete square matrices (Jonker–Volgenant in full: column reduction, augmenting row
    /// reduction, lazy augmentation) against the reference, with costs from all-tied to wider
    /// than 32 bits (the 64-bit matrix), the arcs in row-major order (read in place) or
    /// reversed (scattered into the matrix).
    #[test]
    fn complete_dense_agrees_with_the_reference(
        p in (0..=4u32).prop_flat_map(|spread| assignment_problem(60, 0, 1.0, [0, 2, 50, 1_000_000, 1 << 40][spread as usize])),
        reversed in any::<bool>(),
    ) {
        let mut p = p;
        if reversed {
            p.arcs.reverse();
        }
        let dense = assignment::solve_dense(&p).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let reference = assignment::solve_sparse(&p).map_err(|e| TestCaseError::fail(e.to_string()))?;
        assignment::verify(&p, &dense).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(dense.cost, reference.cost);
    }

    /// Capacitated assignment (people to posts with seats, through a sink; some people may go
    /// unplaced at a price) up to 150 people, against the reference, by push-relabel and by the
    /// seat auction; infeasible ones (too few seats, a person with no candidate) refused by
    /// push-relabel with the nodes named, declined by the auction (`None`).
    #[test]
    fn push_relabel_and_the_seat_auction_place_people_in_seats(
        people in 1..150usize,
        posts in 1..60usize,
        seed in any::<u64>(),
        unplaced_cost in proptest::option::of(-50..5_000i64),
        costs in prop_oneof![Just(3i64), Just(1_000), Just(1_000_000)],
    ) {
        let n = seats_network(people, posts, seed, unplaced_cost, costs);
        let reference = ssp::solve(&n);
        let scaled = push_relabel::solve(&n);
        let auction = seats::attempt(&n);
        match (&reference, &scaled, &auction) {
            (Ok(a), Ok(b), Some(c)) => {
                for solved in [b, c] {
                    network::verify(&n, solved).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    prop_assert_eq!(a.cost, solved.cost);
                }
                prop_assert!(push_relabel::attempt(&n).is_some());
            }
            (Err(a), Err(b), None) => {
                prop_assert!(!b.uncovered.is_empty(), "{}", b);
                prop_assert_eq!(a.demand - a.reachable > 0, b.demand - b.reachable > 0);
            }
            _ => prop_assert!(
                false,
                "reference {:?}, push-relabel {:?}, auction {:?}",
                reference.is_ok(),
                scaled.is_ok(),
                auction.is_some()
            ),
        }
    }

    /// Placement rounds against brute force: the most seats filled, then the least cost.
    #[test]
    fn placement_matches_brute_force(
        people in 1..=6usize,
        seats in proptest::collection::vec(1..=2u32, 1..=3),
        cells in proptest::collection::vec(proptest::option::weighted(0.6, 0..50i64), 18),
    ) {
        use counterpart_engine::placement::{self, Round};
        let posts = seats.len();
        let mut round = Round { people, seats: seats.clone(), arcs: vec![], unplaced: 1_000 };
        for p in 0..people {
            for q in 0..posts {
                if let Some(c) = cells[p * 3 + q] {
                    round.arcs.push((p as u32, q as u32, c));
                }
            }
        }
        // Brute force: each person takes one of their arcs or none, seats respected.
        fn go(r: &Round, p: usize, open: &mut Vec<u32>, placed: usize, cost: i64, best: &mut (usize, i64)) {
            if p == r.people {
                if placed > best.0 || (placed == best.0 && cost < best.1) {
                    *best = (placed, cost);
                }
                return;
            }
            go(r, p + 1, open, placed, cost, best);
            for &(from, q, c) in &r.arcs {
                if from as usize == p && open[q as usize] > 0 {
                    open[q as usize] -= 1;
                    go(r, p + 1, open, placed + 1, cost + c, best);
                    open[q as usize] += 1;
                }
            }
        }
        let mut best = (0usize, i64::MAX);
        go(&round, 0, &mut seats.clone(), 0, 0, &mut best);
        let placed = placement::place(&round).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let count = placed.arc_of.iter().filter(|a| a.is_some()).count();
        prop_assert_eq!(count, best.0);
        prop_assert_eq!(placed.cost, if best.0 == 0 { 0 } else { i128::from(best.1) });
        for (q, &s) in seats.iter().enumerate() {
            let used = placed.arc_of.iter().flatten().filter(|&&k| round.arcs[k].1 as usize == q).count() as u32;
            prop_assert_eq!(used + placed.open[q], s);
        }
    }

    /// A round of separate blocks (as a program's providers and specialties make one) is split
    /// into its groups, each solved alone: the total equals the whole round solved as one
    /// network by the reference, and the stitched certificate holds on the whole round.
    #[test]
    fn a_round_in_blocks_costs_what_the_whole_costs(
        seed in any::<u64>(),
        blocks in 1..=12usize,
        lonely in 0..=3usize,
    ) {
        use counterpart_engine::placement::{self, Round};
        let mut next = xorshift(seed);
        let mut round = Round { people: 0, seats: vec![], arcs: vec![], unplaced: 500 };
        let mut connected = 0;
        for _ in 0..blocks {
            let (people, posts) = (1 + next(15) as usize, 1 + next(6) as usize);
            let (p0, q0) = (round.people as u32, round.seats.len() as u32);
            round.people += people;
            round.seats.extend((0..posts).map(|_| 1 + next(3) as u32));
            let before = round.arcs.len();
            for p in 0..people as u32 {
                for q in 0..posts as u32 {
                    if next(3) > 0 {
                        round.arcs.push((p0 + p, q0 + q, next(200) as i64));
                    }
                }
            }
            connected += usize::from(round.arcs.len() > before);
        }
        // People and posts with no candidate at all.
        round.people += lonely;
        round.seats.extend((0..lonely).map(|_| 2));
        let placed = placement::place(&round).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let network = round.network();
        let whole = ssp::solve(&network).expect("anyone may stay unplaced");
        prop_assert_eq!(placed.flow.cost, whole.cost);
        network::verify(&network, &placed.flow).map_err(|e| TestCaseError::fail(e.to_string()))?;
        // Blocks share nothing, so each block with an arc is at least one group.
        prop_assert!(placed.groups >= connected && placed.groups <= round.arcs.len());
        let placed_count = placed.arc_of.iter().flatten().count() as i64;
        let unplaced_flow: i64 = placed.flow.flow[round.arcs.len() + round.seats.len()..].iter().sum();
        prop_assert_eq!(placed_count + unplaced_flow, round.people as i64);
    }

    /// Square sparse problems (the cost-scaling case) up to 200, costs up to 1,000,000 (packed
    /// in 32 bits) or 10¹⁰ (in 64).
    #[test]
    fn scaling_agrees_with_the_reference(
        p in prop_oneof![
            assignment_problem(200, 0, 0.1, 1_000_000),
            assignment_problem(200, 0, 0.1, 10_000_000_000),
        ],
    ) {
        let scaling = assignment::solve_scaling(&p);
        let reference = assignment::solve_sparse(&p);
        match (&scaling, &reference) {
            (Ok(a), Ok(b)) => {
                assignment::verify(&p, a).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(a.cost, b.cost);
                // Cost scaling itself answered (no fallback to the reference).
                let direct = counterpart_engine::scaling::solve_matchable(&p);
                prop_assert!(direct.is_ok(), "{:?}", direct.err());
                assignment::verify(&p, direct.as_ref().unwrap()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            }
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            _ => prop_assert!(false, "scaling {:?} and reference {:?} disagree on feasibility", scaling.is_ok(), reference.is_ok()),
        }
    }

    /// Deferred acceptance leaves no blocking pair, respects capacities, and repeats itself for
    /// the same seed.
    #[test]
    fn deferred_acceptance_is_stable(
        proposers in 1..9usize,
        receivers in 1..6usize,
        seed in any::<u64>(),
        raw in proptest::collection::vec((0..6usize, 0..3usize, 0..9usize), 0..60),
        capacity in proptest::collection::vec(0..3usize, 6),
    ) {
        use counterpart_engine::stable::{self, Preferences};
        // raw: (receiver, tier, proposer) triples, each listed both ways.
        let mut prefs = Preferences {
            proposers: vec![vec![vec![]; 3]; proposers],
            receivers: vec![vec![vec![]; 3]; receivers],
            capacity: capacity[..receivers].to_vec(),
        };
        let mut seen = std::collections::HashSet::new();
        for (r, tier, p) in raw {
            let (r, p) = (r % receivers, p % proposers);
            if seen.insert((r, p)) {
                prefs.proposers[p][tier].push(r);
                prefs.receivers[r][(tier + p) % 3].push(p);
            }
        }
        let m = stable::deferred_acceptance(&prefs, seed);
        prop_assert_eq!(stable::check(&prefs, &m), Ok(()));
        prop_assert_eq!(&stable::deferred_acceptance(&prefs, seed), &m);
    }

    /// Random bytes and lines never panic the parser; an error names a line of the input.
    #[test]
    fn the_parser_never_panics(text in "(([cpna] ?)?(min|asn|[0-9 -]{0,12}){0,4}\n){0,12}") {
        if let Err(e) = dimacs::parse(&text) {
            prop_assert!(e.line >= 1 && e.line <= text.lines().count().max(1), "{}", e);
        }
    }

    #[test]
    fn mutated_valid_files_parse_or_name_their_line(cut in 0usize..200, junk in "[a-z0-9 -]{0,6}") {
        let text = "c tiny\np min 3 3\nn 1 2\nn 3 -2\na 1 2 0 2 1\na 2 3 0 2 1\na 1 3 0 1 5\n";
        let mutated = format!("{}{}{}", &text[..cut.min(text.len())], junk, &text[cut.min(text.len())..]);
        match dimacs::parse(&mutated) {
            Ok(Problem::MinCost(n)) => {
                if let Ok(s) = ssp::solve(&n) {
                    network::verify(&n, &s).map_err(|e| TestCaseError::fail(e.to_string()))?;
                }
            }
            Ok(_) => {}
            Err(e) => prop_assert!(e.line >= 1 && e.line <= mutated.lines().count().max(1)),
        }
    }
}

/// On a transport problem with many recipients per provider a pair's change moves few
/// potentials far (large regions move by a unit or two, the duals being degenerate, which the
/// candidates' margin absorbs), so re-solves prove their optimum warm: candidates and the arcs
/// at far-moved nodes, not every arc. Each answer equals a cold solve of the changed problem
/// and its certificate checks.
#[test]
fn re_solves_after_a_pair_changes_are_proven_warm() {
    use counterpart_engine::simplex::NetworkSimplex;
    let (providers, recipients) = (50, 2000);
    let mut next = xorshift(7);
    let mut n = Network::new(providers + recipients);
    for r in 0..recipients {
        n.supply[providers + r] = -(1 + next(9) as i64);
    }
    let demand: i64 = -n.supply.iter().sum::<i64>();
    for p in 0..providers {
        n.supply[p] =
            demand / providers as i64 + i64::from(p < (demand % providers as i64) as usize);
    }
    for r in 0..recipients {
        for p in 0..providers {
            n.add_arc(p, providers + r, 0, 15, next(1000) as i64);
        }
    }
    let mut simplex = NetworkSimplex::new(&n);
    let mut current = simplex.solve().expect("feasible");
    let mut changed = n.clone();
    let mut warm = 0;
    for k in 0..24 {
        // Forbid a pair that carries flow, then put it back.
        let arc = (0..n.arcs.len())
            .map(|i| (i + k * 7919) % n.arcs.len())
            .find(|&a| current.flow[a] > 0)
            .expect("some pair carries flow");
        for cost in [10_000_000, n.arcs[arc].cost] {
            simplex.set_cost(arc, cost);
            changed.arcs[arc].cost = cost;
            current = simplex.solve().expect("feasible");
            network::verify(&changed, &current).expect("certificate");
            let cold = NetworkSimplex::new(&changed).solve().expect("feasible");
            assert_eq!(current.cost, cold.cost, "change {k}");
            warm += usize::from(simplex.warm);
        }
    }
    assert!(warm >= 44, "only {warm} of 48 re-solves were proven warm");
}

#[test]
fn a_tampered_certificate_is_refused() {
    let p = Assignment {
        left: 2,
        right: 2,
        arcs: vec![(0, 0, 1), (0, 1, 5), (1, 0, 4), (1, 1, 2)],
    };
    let mut s = assignment::solve_dense(&p).unwrap();
    assignment::verify(&p, &s).unwrap();
    assert_eq!(s.cost, 3);
    s.u[0] += 1;
    assert!(
        assignment::verify(&p, &s).is_err(),
        "a dual moved off its arc"
    );
    let mut s = assignment::solve_dense(&p).unwrap();
    s.chosen.swap(0, 1);
    assert!(
        assignment::verify(&p, &s).is_err(),
        "a node on another's arc"
    );
    let n = p.network();
    let mut f = ssp::solve(&n).unwrap();
    network::verify(&n, &f).unwrap();
    f.potentials[2] -= 10;
    assert!(network::verify(&n, &f).is_err());
}

#[test]
fn infeasible_problems_name_the_nodes_that_cannot_be_covered() {
    // Recipients 0 and 1 can only be served by provider 0; recipient 2 by anyone.
    let p = Assignment {
        left: 3,
        right: 3,
        arcs: vec![(0, 0, 1), (1, 0, 1), (2, 0, 1), (2, 1, 1), (2, 2, 1)],
    };
    for e in [
        assignment::solve_dense(&p).unwrap_err(),
        assignment::solve_sparse(&p).unwrap_err(),
    ] {
        assert_eq!(e.uncovered, vec![0, 1], "{e}");
        assert_eq!((e.demand, e.reachable), (2, 1));
        assert_eq!(e.reason, Reason::Cut);
    }
    // A recipient with no arc at all.
    let lonely = Assignment {
        left: 2,
        right: 2,
        arcs: vec![(0, 0, 3), (0, 1, 3)],
    };
    assert_eq!(
        assignment::solve_sparse(&lonely).unwrap_err().uncovered,
        vec![1]
    );
    // Capacity short of demand in a flow.
    let mut n = Network::new(3);
    n.supply = vec![5, 0, -5];
    n.add_arc(0, 1, 0, 3, 1);
    n.add_arc(1, 2, 0, 9, 1);
    let e = ssp::solve(&n).unwrap_err();
    assert_eq!((e.demand, e.reachable), (5, 3), "{e}");
    assert!(e.uncovered.contains(&2));
    n.supply = vec![5, 0, -4];
    assert!(matches!(
        ssp::solve(&n).unwrap_err().reason,
        Reason::Unbalanced { .. }
    ));
}

#[test]
fn dimacs_round_trip_and_errors() {
    let min = "c a small transport problem\np min 4 5\nn 1 4\nn 4 -4\na 1 2 0 4 2\na 1 3 0 2 2\na 2 3 0 2 1\na 2 4 0 3 3\na 3 4 0 5 1\n";
    let Problem::MinCost(n) = dimacs::parse(min).unwrap() else {
        panic!("min")
    };
    let s = ssp::solve(&n).unwrap();
    network::verify(&n, &s).unwrap();
    assert_eq!(s.cost, 14);
    let out = dimacs::write_flow(&n, &s, false);
    assert!(out.starts_with("s 14\n"), "{out}");
    assert_eq!(dimacs::write_flow(&n, &s, true), "s 14\n");

    let asn = "p asn 4 4\nn 1\nn 2\na 1 3 5\na 1 4 1\na 2 3 2\na 2 4 9\n";
    let Problem::Assignment {
        problem,
        left_ids,
        right_ids,
    } = dimacs::parse(asn).unwrap()
    else {
        panic!("asn")
    };
    let (s, _) = assignment::solve(&problem).unwrap();
    assert_eq!(s.cost, 3);
    let out = dimacs::write_assignment(&problem, &left_ids, &right_ids, &s, false);
    assert_eq!(out, "s 3\nf 1 4 1\nf 2 3 1\n");

    for (text, line, needle) in [
        ("a 1 2 0 1 1\n", 1, "before the problem line"),
        ("p min 2 1\nn 3 1\n", 2, "not a node"),
        ("p min 2 1\na 1 2 0 x 1\n", 2, "capacity \"x\""),
        ("p min 2 1\na 1 2 3 1 1\n", 2, "bounds"),
        ("p min 2 2\na 1 2 0 1 1\n", 2, "1 arcs, 2 declared"),
        ("p max 2 1\n", 1, "only"),
        ("p asn 3 1\nn 1\na 2 3 4\n", 3, "not a left-side node"),
        ("p asn 3 1\nn 1\nn 1\n", 3, "twice"),
        ("p min 2 1\nx 1\n", 2, "unknown line type"),
        ("", 1, "no problem line"),
    ] {
        let e = dimacs::parse(text).unwrap_err();
        assert_eq!(e.line, line, "{text:?}: {e}");
        assert!(e.message.contains(needle), "{text:?}: {e}");
    }
}

#[test]
fn the_stability_check_finds_a_blocking_pair() {
    use counterpart_engine::stable::{self, Instability, Matching, Preferences};
    // Two experts, two posts; both experts prefer post 0, post 0 prefers expert 1.
    let prefs = Preferences {
        proposers: vec![vec![vec![0], vec![1]], vec![vec![0], vec![1]]],
        receivers: vec![vec![vec![1], vec![0]], vec![vec![0, 1]]],
        capacity: vec![1, 1],
    };
    let m = stable::deferred_acceptance(&prefs, 7);
    assert_eq!(m.assigned, vec![Some(1), Some(0)]);
    let unstable = Matching {
        assigned: vec![Some(0), Some(1)],
        seed: 7,
    };
    assert_eq!(
        stable::check(&prefs, &unstable),
        Err(Instability::Blocking {
            proposer: 1,
            receiver: 0
        })
    );
    let crowded = Matching {
        assigned: vec![Some(0), Some(0)],
        seed: 7,
    };
    assert_eq!(
        stable::check(&prefs, &crowded),
        Err(Instability::OverCapacity { receiver: 0 })
    );
}

mod pairing_model {
    use counterpart_engine::pairing::{self, Piece, Problem, Provider, Recipient, Weights};
    use proptest::prelude::*;

    /// The best one-provider-per-recipient pairing by trying every one, scored by the model's
    /// own `evaluate`; None when no pairing respects the fixed and forbidden pairs.
    fn brute(problem: &Problem) -> Option<i64> {
        let units = problem.units();
        let (np, nr) = (problem.providers.len(), problem.recipients.len());
        let mut best: Option<i64> = None;
        let mut choice = vec![0usize; nr];
        loop {
            let allowed = (0..nr).all(|r| {
                !problem.forbidden.contains(&(choice[r], r))
                    && problem
                        .fixed
                        .iter()
                        .filter(|f| f.1 == r)
                        .all(|f| f.0 == choice[r])
            });
            if allowed {
                let pieces: Vec<Piece> = (0..nr)
                    .map(|r| Piece {
                        provider: choice[r],
                        recipient: r,
                        units: units.need[r],
                    })
                    .collect();
                let score = problem.evaluate(&pieces).0;
                best = Some(best.map_or(score, |b| b.max(score)));
            }
            // Next choice, like an odometer.
            let mut i = 0;
            while i < nr {
                choice[i] += 1;
                if choice[i] < np {
                    break;
                }
                choice[i] = 0;
                i += 1;
            }
            if i == nr {
                return best;
            }
        }
    }

    fn problem(max_k: usize) -> impl Strategy<Value = Problem> {
        let tags = prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 0..3);
        let provider = (0i64..100, tags.clone());
        let recipient = (0i64..1000, 0i64..2000, tags, 1..=max_k);
        (
            prop::collection::vec(provider, 1..=3),
            prop::collection::vec(recipient, 1..=5),
            prop::collection::vec(0u8..10, 15),
            (0i64..30, 0i64..30, 0i64..30, 0i64..30),
        )
            .prop_map(|(providers, recipients, states, (fit, gap, prop, cont))| {
                let providers: Vec<Provider> = providers
                    .into_iter()
                    .enumerate()
                    .map(|(i, (capacity, tags))| Provider {
                        name: format!("p{i}"),
                        capacity,
                        tags: tags.into_iter().map(String::from).collect(),
                    })
                    .collect();
                let recipients: Vec<Recipient> = recipients
                    .into_iter()
                    .enumerate()
                    .map(|(i, (need, extra, tags, k))| Recipient {
                        name: format!("r{i}"),
                        need,
                        population: need + extra,
                        tags: tags.into_iter().map(String::from).collect(),
                        providers: k,
                    })
                    .collect();
                let mut p = Problem::new(providers, recipients);
                p.weights = Weights {
                    fit,
                    gap,
                    proportionality: prop,
                    continuity: cont,
                };
                for r in 0..p.recipients.len() {
                    for q in 0..p.providers.len() {
                        match states[(r * 3 + q) % states.len()] {
                            0 => p.fixed.push((q, r)),
                            1 => p.forbidden.push((q, r)),
                            2 | 3 => p.existing.push((q, r)),
                            _ => {}
                        }
                    }
                }
                p
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// One provider per recipient: the search finds the brute-force optimum and proves it.
        #[test]
        fn the_pairing_is_the_brute_force_optimum(problem in problem(1)) {
            match (pairing::solve(&problem), brute(&problem)) {
                (Ok(found), Some(best)) => {
                    pairing::verify(&problem, &found).map_err(TestCaseError::fail)?;
                    prop_assert!(found.proven());
                    prop_assert_eq!(found.score, best);
                }
                (Err(_), None) => {}
                (found, best) => prop_assert!(false, "solver {found:?}, brute force {best:?}"),
            }
        }

        /// Up to two providers per recipient: no worse than the best single-provider pairing,
        /// no better than the unrestricted split, and the answer checks out.
        #[test]
        fn split_recipients_stay_within_their_bounds(problem in problem(2)) {
            let Ok(found) = pairing::solve(&problem) else { return Ok(()); };
            pairing::verify(&problem, &found).map_err(TestCaseError::fail)?;
            prop_assert!(found.proven());
            let mut single = problem.clone();
            single.recipients.iter_mut().for_each(|r| r.providers = 1);
            if let Some(best_single) = brute(&single) {
                prop_assert!(found.score >= best_single);
            }
            let mut free = problem.clone();
            free.recipients.iter_mut().for_each(|r| r.providers = free.providers.len());
            let relaxed = pairing::solve(&free).expect("the split problem is pairable too");
            prop_assert!(found.score <= relaxed.score);
        }

        /// "Why not X–Y?" costs exactly the difference to the best pairing holding X–Y, and its
        /// chain starts at Y.
        #[test]
        fn why_not_costs_the_difference_to_the_forced_optimum(problem in problem(1), p in 0usize..3, r in 0usize..5) {
            let (p, r) = (p % problem.providers.len(), r % problem.recipients.len());
            let Ok(proposal) = pairing::solve(&problem) else { return Ok(()); };
            let mut forced = problem.clone();
            forced.forbidden.retain(|&f| f != (p, r));
            forced.fixed.retain(|&f| f.1 != r);
            forced.fixed.push((p, r));
            let (Ok(answer), Some(best_forced)) = (pairing::why_not(&forced, &proposal, p, r), brute(&forced)) else {
                return Ok(());
            };
            prop_assert_eq!(answer.forced.score, best_forced);
            prop_assert_eq!(answer.cost, proposal.score - best_forced);
            if answer.chosen {
                prop_assert!(answer.moves.iter().all(|m| m.recipient != r));
            } else {
                prop_assert_eq!(answer.moves[0].recipient, r);
                prop_assert_eq!(&answer.moves[0].to, &vec![p]);
            }
        }
    }

    #[test]
    fn a_recipient_nobody_may_serve_is_named() {
        let provider = |name: &str| Provider {
            name: name.into(),
            capacity: 10,
            tags: vec![],
        };
        let recipient = |name: &str| Recipient {
            name: name.into(),
            need: 5,
            population: 10,
            tags: vec![],
            providers: 1,
        };
        let mut p = Problem::new(
            vec![provider("a"), provider("b")],
            vec![recipient("x"), recipient("y")],
        );
        p.forbidden = vec![(0, 1), (1, 1)];
        assert_eq!(
            pairing::solve(&p).unwrap_err(),
            pairing::Unpairable::Providers {
                recipient: 1,
                wanted: 1,
                allowed: 0
            }
        );
    }
}

/// A program-wide round: 87,500 people into 30,000 posts with 1–3 seats, 20–50 candidates
/// each; the answer carries the solver's certificate (checked inside `place`), respects every
/// seat count, and places as many people as a maximum matching allows.
#[test]
fn a_program_wide_placement_round_is_certified() {
    use counterpart_engine::placement::{self, Round};
    let mut next = xorshift(0x2545_f491_4f6c_dd1du64);
    let (people, posts) = (87_500usize, 30_000usize);
    let seats: Vec<u32> = (0..posts).map(|_| 1 + next(3) as u32).collect();
    let mut arcs = Vec::new();
    for p in 0..people {
        let k = 20 + next(31);
        let mut chosen = std::collections::BTreeSet::new();
        while (chosen.len() as u64) < k {
            chosen.insert(next(posts as u64) as u32);
        }
        for q in chosen {
            arcs.push((p as u32, q, 60 + next(71) as i64));
        }
    }
    let round = Round {
        people,
        seats: seats.clone(),
        arcs,
        unplaced: 1_000,
    };
    let placed = placement::place(&round).expect("certified");
    let mut used = vec![0u32; posts];
    for &k in placed.arc_of.iter().flatten() {
        used[round.arcs[k].1 as usize] += 1;
    }
    for q in 0..posts {
        assert_eq!(used[q] + placed.open[q], seats[q], "post {q}");
    }
    // With this many candidates every seat can be filled: the optimum fills them all.
    let total: u32 = seats.iter().sum();
    assert_eq!(
        placed.arc_of.iter().flatten().count() as u32,
        total.min(people as u32)
    );
}
