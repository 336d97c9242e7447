//! Capacitated assignment — people into posts with several seats — by an ε-scaling auction
//! over seats (Bertsekas and Castañon's auction for similar objects: forward phases, each
//! followed by reverse bids for the asymmetric end), on the min-cost flow a placement round is: each person
//! supplies one unit, each candidate pair is an arc, each post passes its seats to one sink, a
//! person may also go straight to the sink (unplaced, at a price).
//!
//! A post is one node in the network and one run of seats here, `min(seats, candidates + 1)`
//! of them (the extra one stays free, as the post's arc to the sink keeps room), each with its
//! own price: a person bids for the cheapest seat of the post that is
//! cheapest for them, raising it by the margin over their second choice (which may be the
//! post's next seat) plus ε. Costs are multiplied by `n + 3` (`n` people), so the final phase at
//! ε = 1 is optimal. A forward phase leaves seats that ended up free at prices bids raised; the
//! asymmetric problem is optimal only when no free seat is dearer than a taken one, so after
//! each phase free seats above the cheapest taken price bid for people in reverse (lowering
//! their price) until none is. Left to the last phases, the gaps close one ε at a time
//! (measured on 100,000 people: from the fifth phase on 46 s, after the last alone not done in
//! a minute; after every phase 1.2 s).
//!
//! The certificate is finished as in [`crate::scaling`]: one Dijkstra over the posts and the
//! sink, lengths made non-negative by the posts' cheapest seat prices (the sink at the cheapest
//! taken one) plus one per edge, exact because a path has fewer than `n + 3` edges.
//!
//! [`attempt`] answers `None` when the network is not of this shape, has no feasible flow (a
//! phase runs far past its usual number of bids), or its costs are too large for 64-bit prices;
//! the caller then uses push-relabel, which is general.

use crate::network::{FlowSolution, Network, check_input};

/// How much ε shrinks per phase.
const ALPHA: i64 = 8;
const NONE: u32 = u32::MAX;
/// Prices past this mean a phase that will not end (no feasible flow); far enough below
/// `i64::MAX` that no sum of a price and a scaled cost overflows.
const PRICE_LIMIT: i64 = i64::MAX / 4;

/// A network of the placement shape, as the auction sees it.
struct Shape {
    people: usize,
    /// Auction posts: the network's posts, then one private post per arc that goes from a
    /// person straight to the sink.
    posts: usize,
    sink: usize,
    /// The network node of each person, and of each real post.
    person_node: Vec<u32>,
    post_node: Vec<u32>,
    /// The cost of each auction post's arc to the sink (0 for private posts) and its arc index
    /// in the network (`NONE` for private posts).
    post_cost: Vec<i64>,
    post_arc: Vec<u32>,
    /// Seats of each auction post, in compressed rows.
    seat_start: Vec<u32>,
    /// Each person's arcs in compressed rows: auction post, cost to the sink through it
    /// (person arc plus post arc), network arc index.
    start: Vec<u32>,
    target: Vec<u32>,
    cost: Vec<i64>,
    arc_id: Vec<u32>,
}

/// Local numbers, people and posts each in node order: each node's number, and the node of
/// each person and of each post.
fn number_nodes(network: &Network, sink: usize) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
    let mut local = vec![NONE; network.nodes()];
    let mut person_node = Vec::new();
    let mut post_node = Vec::new();
    for (v, number) in local.iter_mut().enumerate() {
        if network.supply[v] == 1 {
            *number = person_node.len() as u32;
            person_node.push(v as u32);
        } else if v != sink {
            *number = post_node.len() as u32;
            post_node.push(v as u32);
        }
    }
    (local, person_node, post_node)
}

/// Where each post's seats start, the real posts' then the private ones' (a person's own arc
/// to the sink). Seats: no more than the people who can reach the post, plus one that stays
/// free when the post could take them all (its arc to the sink keeps room, and the dual must
/// say so). `None` when there are too many to number.
fn seat_starts(post_cap: &[i64], into: &[u32], private_cap: &[i64]) -> Option<Vec<u32>> {
    let real_posts = post_cap.len();
    let posts = real_posts + private_cap.len();
    let mut seat_start = Vec::with_capacity(posts + 1);
    seat_start.push(0u32);
    let mut seats = 0u64;
    for q in 0..posts {
        seats += if q < real_posts {
            post_cap[q].min(i64::from(into[q]) + 1) as u64
        } else {
            private_cap[q - real_posts].min(2) as u64
        };
        if seats >= u64::from(NONE) {
            return None;
        }
        seat_start.push(seats as u32);
    }
    Some(seat_start)
}

/// Recognise the placement shape: one sink with all the demand, people with supply one, posts
/// with one arc to the sink; arcs from people to posts or to the sink, no lower bounds.
fn shape(network: &Network) -> Option<Shape> {
    let n = network.nodes();
    if n >= NONE as usize || network.arcs.len() >= NONE as usize {
        return None;
    }
    let mut sink = None;
    for (v, &s) in network.supply.iter().enumerate() {
        match s {
            0 | 1 => {}
            s if s < 0 && sink.is_none() => sink = Some(v),
            _ => return None,
        }
    }
    let sink = sink?;
    let (local, person_node, post_node) = number_nodes(network, sink);
    let people = person_node.len();
    let real_posts = post_node.len();
    let mut post_cost = vec![0i64; real_posts];
    let mut post_arc = vec![NONE; real_posts];
    let mut post_cap = vec![0i64; real_posts];
    let mut degree = vec![0u32; people + 1];
    let mut into = vec![0u32; real_posts];
    let mut private_cap = Vec::new();
    for (k, a) in network.arcs.iter().enumerate() {
        if a.low != 0 {
            return None;
        }
        if a.cap == 0 {
            continue;
        }
        let (from, to) = (a.from, a.to);
        if from == sink || network.supply[to] == 1 {
            return None;
        }
        if network.supply[from] == 1 {
            degree[local[from] as usize] += 1;
            if to == sink {
                private_cap.push(a.cap);
            } else {
                into[local[to] as usize] += 1;
            }
        } else if to == sink {
            let q = local[from] as usize;
            if post_arc[q] != NONE {
                return None;
            }
            post_arc[q] = k as u32;
            post_cost[q] = a.cost;
            post_cap[q] = a.cap;
        } else {
            return None;
        }
    }
    if (0..real_posts).any(|q| post_arc[q] == NONE && into[q] > 0) {
        return None;
    }
    let posts = real_posts + private_cap.len();
    let seat_start = seat_starts(&post_cap, &into, &private_cap)?;
    post_cost.resize(posts, 0);
    post_arc.resize(posts, NONE);
    // People's arcs in compressed rows.
    let mut start = vec![0u32; people + 1];
    for p in 0..people {
        start[p + 1] = start[p] + degree[p];
    }
    let m = start[people] as usize;
    let mut fill: Vec<u32> = start[..people].to_vec();
    let (mut target, mut cost, mut arc_id) = (vec![0u32; m], vec![0i64; m], vec![0u32; m]);
    let mut next_private = real_posts;
    for (k, a) in network.arcs.iter().enumerate() {
        if a.cap == 0 || network.supply[a.from] != 1 {
            continue;
        }
        let p = local[a.from] as usize;
        let at = fill[p] as usize;
        fill[p] += 1;
        let (q, through) = if a.to == sink {
            next_private += 1;
            (next_private - 1, 0)
        } else {
            let q = local[a.to] as usize;
            (q, post_cost[q])
        };
        target[at] = q as u32;
        cost[at] = a.cost.checked_add(through)?;
        arc_id[at] = k as u32;
    }
    Some(Shape {
        people,
        posts,
        sink,
        person_node,
        post_node,
        post_cost,
        post_arc,
        seat_start,
        start,
        target,
        cost,
        arc_id,
    })
}

/// Solve a network of the placement shape by the seat auction; `None` when it is not of that
/// shape, not feasible, or beyond 64-bit prices (see the module documentation).
pub fn attempt(network: &Network) -> Option<FlowSolution> {
    check_input(network).ok()?;
    let shape = shape(network)?;
    let mut auction = Auction::new(&shape)?;
    auction.run()?;
    Some(auction.solution(network))
}

struct Auction<'a> {
    shape: &'a Shape,
    scale: i64,
    /// Costs multiplied by `scale`.
    cost: Vec<i64>,
    range: i64,
    seat_price: Vec<i64>,
    seat_holder: Vec<u32>,
    /// The cheapest seat price of each post.
    low: Vec<i64>,
    /// Each person's arc position and seat, and what the seat costs them (arc plus seat
    /// price, which does not change while they hold it).
    assigned: Vec<u32>,
    seat_of: Vec<u32>,
    current: Vec<i64>,
}

impl<'a> Auction<'a> {
    fn new(shape: &'a Shape) -> Option<Auction<'a>> {
        let n = shape.people;
        if (0..n).any(|p| shape.start[p] == shape.start[p + 1]) {
            return None; // someone with nowhere to go
        }
        let scale = n as i64 + 3;
        let (lo, hi) = shape
            .cost
            .iter()
            .fold((i64::MAX, i64::MIN), |(l, h), &c| (l.min(c), h.max(c)));
        let range = if n == 0 {
            1
        } else {
            (i128::from(hi) - i128::from(lo)).max(1)
        };
        // Scaled costs and a phase's first raises well inside 64 bits.
        let magnitude = i128::from(lo).abs().max(i128::from(hi).abs()) + range + 1;
        if magnitude * i128::from(scale) * (4 * n as i128 + 8) > i128::from(PRICE_LIMIT) {
            return None;
        }
        let seats = *shape.seat_start.last().unwrap_or(&0) as usize;
        Some(Auction {
            shape,
            scale,
            cost: shape.cost.iter().map(|&c| c * scale).collect(),
            range: range as i64 * scale,
            seat_price: vec![0; seats],
            seat_holder: vec![NONE; seats],
            low: vec![0; shape.posts],
            assigned: vec![NONE; n],
            seat_of: vec![NONE; n],
            current: vec![0; n],
        })
    }

    /// Forward phases from ε = range / [`ALPHA`] down to 1, each from no one placed and the
    /// last phase's prices, each followed by the reverse bids that leave no free seat dearer
    /// than a taken one (skipping them in early phases leaves the last one gaps it can only
    /// close one ε at a time). `None` when a phase runs past its patience or a price past
    /// [`PRICE_LIMIT`]: the problem is probably infeasible, push-relabel decides.
    fn run(&mut self) -> Option<()> {
        let n = self.shape.people;
        let mut epsilon = self.range;
        let patience = 200 * n as u64 + 10_000;
        let mut free: Vec<u32> = Vec::with_capacity(n);
        let mut reverse = None;
        loop {
            epsilon = (epsilon / ALPHA).max(1);
            self.seat_holder.fill(NONE);
            free.clear();
            free.extend((0..n as u32).rev());
            let mut bids = 0u64;
            while let Some(p) = free.pop() {
                bids += 1;
                if bids > patience {
                    return None;
                }
                let (evicted, price) = self.bid(p as usize, epsilon);
                if price > PRICE_LIMIT {
                    return None;
                }
                if evicted != NONE {
                    free.push(evicted);
                }
            }
            self.reverse(epsilon, &mut reverse);
            if epsilon == 1 {
                return Some(());
            }
        }
    }

    /// Person `p` bids for the cheapest seat of its best post; returns whom it displaced
    /// (`NONE` if nobody) and the seat's new price.
    #[inline]
    fn bid(&mut self, p: usize, epsilon: i64) -> (u32, i64) {
        let s = self.shape;
        let (mut best, mut second, mut at) = (i64::MAX, i64::MAX, usize::MAX);
        for a in s.start[p] as usize..s.start[p + 1] as usize {
            let value = self.cost[a] + self.low[s.target[a] as usize];
            if value < best {
                second = best;
                best = value;
                at = a;
            } else if value < second {
                second = value;
            }
        }
        let q = s.target[at] as usize;
        // The post's cheapest seat and the price of its next cheapest.
        let (first, last) = (s.seat_start[q] as usize, s.seat_start[q + 1] as usize);
        let (mut seat, mut next) = (first, i64::MAX);
        for t in first + 1..last {
            let price = self.seat_price[t];
            if price < self.seat_price[seat] {
                next = self.seat_price[seat];
                seat = t;
            } else if price < next {
                next = price;
            }
        }
        if next != i64::MAX {
            second = second.min(self.cost[at] + next);
        }
        let raise = if second == i64::MAX {
            self.range + epsilon
        } else {
            second - best + epsilon
        };
        let price = self.seat_price[seat] + raise;
        self.seat_price[seat] = price;
        self.low[q] = price.min(next);
        let previous = self.seat_holder[seat];
        self.seat_holder[seat] = p as u32;
        self.assigned[p] = at as u32;
        self.seat_of[p] = seat as u32;
        self.current[p] = self.cost[at] + price;
        (previous, price)
    }

    /// Reverse bids until no free seat is dearer than the cheapest taken one (the asymmetric
    /// problem's optimality condition): a free seat above that floor lowers its price to win the
    /// person who gains most from it (by the margin over the runner-up, plus ε), whose old seat
    /// is then free; or, when nobody gains more than ε, falls to the floor.
    fn reverse(&mut self, epsilon: i64, index: &mut Option<Reverse>) {
        let s = self.shape;
        let seats = self.seat_price.len();
        let Some(floor) = (0..seats)
            .filter(|&t| self.seat_holder[t] != NONE)
            .map(|t| self.seat_price[t])
            .min()
        else {
            return;
        };
        let mut stack: Vec<u32> = (0..seats as u32)
            .filter(|&t| {
                self.seat_holder[t as usize] == NONE && self.seat_price[t as usize] > floor
            })
            .collect();
        if stack.is_empty() {
            return;
        }
        let Reverse {
            into_start,
            into,
            owner,
            into_cost,
            post_of_seat,
        } = index.get_or_insert_with(|| Reverse::new(s, &self.cost));
        while let Some(t) = stack.pop() {
            let t = t as usize;
            let q = post_of_seat[t] as usize;
            // The most each person would pay for this seat and be no worse off.
            let (mut best, mut second, mut who) = (i64::MIN, i64::MIN, usize::MAX);
            for r in into_start[q] as usize..into_start[q + 1] as usize {
                let value = self.current[owner[r] as usize] - into_cost[r];
                if value > best {
                    second = best;
                    best = value;
                    who = r;
                } else if value > second {
                    second = value;
                }
            }
            if best <= floor + epsilon {
                self.seat_price[t] = floor;
                continue;
            }
            self.seat_price[t] = floor.max(second.saturating_sub(epsilon));
            let (a, p) = (into[who] as usize, owner[who] as usize);
            let old = self.seat_of[p] as usize;
            self.seat_holder[old] = NONE;
            if self.seat_price[old] > floor {
                stack.push(old as u32);
            }
            self.seat_holder[t] = p as u32;
            self.seat_of[p] = t as u32;
            self.assigned[p] = a as u32;
            self.current[p] = into_cost[who] + self.seat_price[t];
        }
        // The posts' cheapest prices, for the next forward phase.
        for (q, low) in self.low.iter_mut().enumerate() {
            *low = (s.seat_start[q]..s.seat_start[q + 1])
                .map(|t| self.seat_price[t as usize])
                .min()
                .unwrap_or(0);
        }
    }

    /// The flow on each network arc and exact potentials.
    fn solution(&self, network: &Network) -> FlowSolution {
        let s = self.shape;
        let mut flow = vec![0i64; network.arcs.len()];
        for p in 0..s.people {
            flow[s.arc_id[self.assigned[p] as usize] as usize] = 1;
        }
        for q in 0..s.posts {
            if s.post_arc[q] != NONE {
                let taken = (s.seat_start[q]..s.seat_start[q + 1])
                    .filter(|&t| self.seat_holder[t as usize] != NONE)
                    .count();
                flow[s.post_arc[q] as usize] = taken as i64;
            }
        }
        let distance = self.exact_distances();
        let mut potentials = vec![0i64; network.nodes()];
        let sink_distance = distance[s.posts];
        potentials[s.sink] = sink_distance;
        for q in 0..s.post_node.len() {
            potentials[s.post_node[q] as usize] = if s.post_arc[q] == NONE {
                sink_distance // a post nobody can reach: any potential not below the sink's
            } else {
                distance[q] - s.post_cost[q]
            };
        }
        for p in 0..s.people {
            let a = self.assigned[p] as usize;
            potentials[s.person_node[p] as usize] = distance[s.target[a] as usize] - s.cost[a];
        }
        FlowSolution {
            cost: network.cost_of(&flow),
            flow,
            potentials,
        }
    }

    /// Shortest distances (in the original costs, arcs to the sink folded into the people's
    /// arcs) over posts `0..posts` and the sink (`posts`) in the residual graph, from a root
    /// joined to every node at 0: a post leads on through each of its people to their other
    /// posts, a post with a free seat to the sink, the sink to each post with a taken seat.
    /// Lengths reduced by the cheapest seat prices (the sink at the cheapest taken price) plus
    /// one per edge are non-negative, so Dijkstra applies, and because a path has fewer than
    /// `scale` edges the scaled distance divided by `scale` is exact.
    fn exact_distances(&self) -> Vec<i64> {
        use std::cmp::Reverse;
        let s = self.shape;
        let posts = s.posts;
        let mut sink_price = i64::MAX;
        let mut has_free = vec![false; posts];
        let mut has_taken = vec![false; posts];
        for q in 0..posts {
            for t in s.seat_start[q] as usize..s.seat_start[q + 1] as usize {
                if self.seat_holder[t] == NONE {
                    has_free[q] = true;
                } else {
                    has_taken[q] = true;
                    sink_price = sink_price.min(self.seat_price[t]);
                }
            }
        }
        if sink_price == i64::MAX {
            sink_price = 0;
        }
        // Each post at its cheapest seat (kept by the bids and the reverse pass); a post without
        // seats, which nobody can reach, at the sink's.
        let mut price: Vec<i64> = (0..posts)
            .map(|q| {
                if s.seat_start[q] == s.seat_start[q + 1] {
                    sink_price
                } else {
                    self.low[q]
                }
            })
            .collect();
        price.push(sink_price);
        let lowest = price.iter().copied().min().unwrap_or(0);
        let mut dist: Vec<i64> = price.iter().map(|p| p - lowest).collect();
        let mut done = vec![false; posts + 1];
        let mut heap: std::collections::BinaryHeap<Reverse<(i64, u32)>> =
            (0..=posts).map(|v| Reverse((dist[v], v as u32))).collect();
        let relax = |dist: &mut Vec<i64>,
                     heap: &mut std::collections::BinaryHeap<Reverse<(i64, u32)>>,
                     d: i64,
                     length: i64,
                     next: usize| {
            let length = length.max(0);
            if d + length < dist[next] {
                dist[next] = d + length;
                heap.push(Reverse((d + length, next as u32)));
            }
        };
        while let Some(Reverse((d, v))) = heap.pop() {
            let v = v as usize;
            if done[v] || d != dist[v] {
                continue;
            }
            done[v] = true;
            if v == posts {
                for q in 0..posts {
                    if has_taken[q] && !done[q] {
                        relax(&mut dist, &mut heap, d, price[q] - sink_price + 1, q);
                    }
                }
                continue;
            }
            if has_free[v] && !done[posts] {
                relax(&mut dist, &mut heap, d, sink_price - price[v] + 1, posts);
            }
            for t in s.seat_start[v] as usize..s.seat_start[v + 1] as usize {
                let p = self.seat_holder[t];
                if p == NONE {
                    continue;
                }
                let p = p as usize;
                let here = self.cost[self.assigned[p] as usize] + price[v];
                for a in s.start[p] as usize..s.start[p + 1] as usize {
                    let next = s.target[a] as usize;
                    if !done[next] {
                        // Non-negative by ε-optimality; clamped so that a bug shows in the
                        // certificate check instead of breaking Dijkstra.
                        relax(
                            &mut dist,
                            &mut heap,
                            d,
                            self.cost[a] + price[next] - here + 1,
                            next,
                        );
                    }
                }
            }
        }
        (0..=posts)
            .map(|v| (dist[v] - price[v] + lowest).div_euclid(self.scale))
            .collect()
    }
}

/// The arcs into each post, for reverse bids.
struct Reverse {
    /// Arc positions into each post in compressed rows, with the person of each.
    into_start: Vec<u32>,
    into: Vec<u32>,
    owner: Vec<u32>,
    into_cost: Vec<i64>,
    post_of_seat: Vec<u32>,
}

impl Reverse {
    fn new(s: &Shape, cost: &[i64]) -> Reverse {
        let posts = s.posts;
        let seats = *s.seat_start.last().unwrap_or(&0) as usize;
        let mut into_start = vec![0u32; posts + 1];
        for &q in &s.target {
            into_start[q as usize + 1] += 1;
        }
        for q in 0..posts {
            into_start[q + 1] += into_start[q];
        }
        let mut fill = into_start[..posts].to_vec();
        let mut into = vec![0u32; s.target.len()];
        let mut owner = vec![0u32; s.target.len()];
        let mut into_cost = vec![0i64; s.target.len()];
        for p in 0..s.people {
            let arcs = s.start[p] as usize..s.start[p + 1] as usize;
            for (a, (&q, &c)) in arcs
                .clone()
                .zip(s.target[arcs.clone()].iter().zip(&cost[arcs]))
            {
                let at = fill[q as usize] as usize;
                into[at] = a as u32;
                owner[at] = p as u32;
                into_cost[at] = c;
                fill[q as usize] += 1;
            }
        }
        let post_of_seat = {
            let mut v = vec![0u32; seats];
            for q in 0..posts {
                for t in s.seat_start[q]..s.seat_start[q + 1] {
                    v[t as usize] = q as u32;
                }
            }
            v
        };
        Reverse {
            into_start,
            into,
            owner,
            into_cost,
            post_of_seat,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two people, two posts of one seat each, one sink.
    fn two_by_two() -> Network {
        let mut n = Network::new(5);
        n.supply = vec![1, 1, 0, 0, -2];
        n.add_arc(0, 2, 0, 1, 4);
        n.add_arc(0, 3, 0, 1, 1);
        n.add_arc(1, 2, 0, 1, 2);
        n.add_arc(1, 3, 0, 1, 2);
        n.add_arc(2, 4, 0, 1, 0);
        n.add_arc(3, 4, 0, 1, 0);
        n
    }

    #[test]
    fn places_and_certifies_the_placement_shape() {
        let n = two_by_two();
        let solution = attempt(&n).expect("the placement shape");
        crate::network::verify(&n, &solution).unwrap();
        assert_eq!(solution.cost, 3);
    }

    #[test]
    fn other_shapes_are_left_to_push_relabel() {
        let mut lower = two_by_two();
        lower.arcs[0].low = 1;
        let mut post_to_post = two_by_two();
        post_to_post.add_arc(2, 3, 0, 1, 0);
        let mut two_sink_arcs = two_by_two();
        two_sink_arcs.add_arc(2, 4, 0, 1, 5);
        let mut bigger_supply = two_by_two();
        bigger_supply.supply = vec![2, 0, 0, 0, -2];
        let mut no_sink_arc = two_by_two();
        no_sink_arc.arcs[5].cap = 0; // post 3 has candidates but passes nothing on
        for n in [
            lower,
            post_to_post,
            two_sink_arcs,
            bigger_supply,
            no_sink_arc,
        ] {
            assert!(attempt(&n).is_none(), "{n:?}");
        }
    }

    #[test]
    fn two_people_for_one_seat_are_declined() {
        let mut short = two_by_two();
        short.arcs[1].to = 2;
        short.arcs[3].to = 2; // both people only to post 2, which has one seat
        assert!(crate::ssp::solve(&short).is_err());
        assert!(attempt(&short).is_none());
    }
}
