//! Paired differences for a shared, noisy machine: each round runs every variant once, back
//! to back, so a change of load falls on all of them alike; the per-round differences are
//! summarised by their median and a bootstrap percentile interval of that median.

/// A median and its 95 % bootstrap percentile interval, in the unit of the values.
#[derive(Clone, Copy, Debug)]
pub struct Estimate {
    /// Median of the values.
    pub median: f64,
    /// 2.5th percentile of the medians of the resamples.
    pub low: f64,
    /// 97.5th percentile of the medians of the resamples.
    pub high: f64,
}

impl Estimate {
    /// `+1.2 [−0.8, +3.0]`, values divided by `scale`.
    pub fn format(&self, scale: f64) -> String {
        format!(
            "{:+.1} [{:+.1}, {:+.1}]",
            self.median / scale,
            self.low / scale,
            self.high / scale
        )
    }
}

/// The median of `values` (the mean of the two middle ones for an even count); 0 if empty.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// The value at fraction `q` of sorted `values` (nearest rank).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// SplitMix64: a fixed-seed generator, so that a report can be reproduced from its samples.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The median of `values` with its 95 % bootstrap percentile interval (`resamples` draws).
pub fn estimate(values: &[f64], resamples: usize) -> Estimate {
    let mut rng = SplitMix(0x5EED_E7CD);
    let mut medians = Vec::with_capacity(resamples);
    let mut draw = vec![0.0; values.len()];
    if !values.is_empty() {
        for _ in 0..resamples {
            for slot in draw.iter_mut() {
                *slot = values[rng.below(values.len())];
            }
            medians.push(median(&draw));
        }
    }
    medians.sort_by(f64::total_cmp);
    Estimate {
        median: median(values),
        low: percentile(&medians, 0.025),
        high: percentile(&medians, 0.975),
    }
}

/// `a[i] - b[i]` for every round.
pub fn differences(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}
