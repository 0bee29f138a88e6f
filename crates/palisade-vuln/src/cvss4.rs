//! CVSS v4.0 scores, as the FIRST specification (section 8) and its reference calculator
//! compute them: the vector's macro vector (six equivalence classes, EQ1–EQ6) gives a score
//! from the specification's lookup table; the score is then lowered by the mean, over the
//! equivalence classes that have a lower neighbour, of the neighbour's score gap scaled by
//! how far (in severity distance) the vector is from the class's highest-severity vectors.
//!
//! Threat (`E`) and environmental metrics are applied (`X` means "not defined": `E:A`,
//! `CR/IR/AR:H`, and modified metrics fall back to the base metric); supplemental metrics
//! are validated and do not change the score. The arithmetic follows the reference
//! calculator operation by operation in `f64` (as JavaScript does), including its final
//! rounding (half up after adding 10⁻⁶, which the calculator adopted so that results one ULP
//! below a tie round as the Python reference does).

/// Metric names and their allowed values, in the specification's order.
const METRICS: &[(&str, &[&str])] = &[
    ("AV", &["N", "A", "L", "P"]),
    ("AC", &["L", "H"]),
    ("AT", &["N", "P"]),
    ("PR", &["N", "L", "H"]),
    ("UI", &["N", "P", "A"]),
    ("VC", &["H", "L", "N"]),
    ("VI", &["H", "L", "N"]),
    ("VA", &["H", "L", "N"]),
    ("SC", &["H", "L", "N"]),
    ("SI", &["H", "L", "N"]),
    ("SA", &["H", "L", "N"]),
    ("E", &["X", "A", "P", "U"]),
    ("CR", &["X", "H", "M", "L"]),
    ("IR", &["X", "H", "M", "L"]),
    ("AR", &["X", "H", "M", "L"]),
    ("MAV", &["X", "N", "A", "L", "P"]),
    ("MAC", &["X", "L", "H"]),
    ("MAT", &["X", "N", "P"]),
    ("MPR", &["X", "N", "L", "H"]),
    ("MUI", &["X", "N", "P", "A"]),
    ("MVC", &["X", "H", "L", "N"]),
    ("MVI", &["X", "H", "L", "N"]),
    ("MVA", &["X", "H", "L", "N"]),
    ("MSC", &["X", "H", "L", "N"]),
    ("MSI", &["X", "S", "H", "L", "N"]),
    ("MSA", &["X", "S", "H", "L", "N"]),
    ("S", &["X", "N", "P"]),
    ("AU", &["X", "N", "Y"]),
    ("R", &["X", "A", "U", "I"]),
    ("V", &["X", "D", "C"]),
    ("RE", &["X", "L", "M", "H"]),
    ("U", &["X", "Clear", "Green", "Amber", "Red"]),
];

/// The base metrics every vector must have.
const BASE: usize = 11;

/// The specification's macro-vector scores (the reference calculator's `cvss_lookup.js`, as
/// the `cvss` Python library ships it): EQ1..EQ6 digits → score.
/// Macro vectors that cannot occur (EQ3 = 2 with EQ6 = 0) are absent.
#[rustfmt::skip]
const LOOKUP: &[(&str, f64)] = &[
    ("000000", 10.0), ("000001", 9.9), ("000010", 9.8), ("000011", 9.5),
    ("000020", 9.5), ("000021", 9.2), ("000100", 10.0), ("000101", 9.6),
    ("000110", 9.3), ("000111", 8.7), ("000120", 9.1), ("000121", 8.1),
    ("000200", 9.3), ("000201", 9.0), ("000210", 8.9), ("000211", 8.0),
    ("000220", 8.1), ("000221", 6.8), ("001000", 9.8), ("001001", 9.5),
    ("001010", 9.5), ("001011", 9.2), ("001020", 9.0), ("001021", 8.4),
    ("001100", 9.3), ("001101", 9.2), ("001110", 8.9), ("001111", 8.1),
    ("001120", 8.1), ("001121", 6.5), ("001200", 8.8), ("001201", 8.0),
    ("001210", 7.8), ("001211", 7.0), ("001220", 6.9), ("001221", 4.8),
    ("002001", 9.2), ("002011", 8.2), ("002021", 7.2), ("002101", 7.9),
    ("002111", 6.9), ("002121", 5.0), ("002201", 6.9), ("002211", 5.5),
    ("002221", 2.7), ("010000", 9.9), ("010001", 9.7), ("010010", 9.5),
    ("010011", 9.2), ("010020", 9.2), ("010021", 8.5), ("010100", 9.5),
    ("010101", 9.1), ("010110", 9.0), ("010111", 8.3), ("010120", 8.4),
    ("010121", 7.1), ("010200", 9.2), ("010201", 8.1), ("010210", 8.2),
    ("010211", 7.1), ("010220", 7.2), ("010221", 5.3), ("011000", 9.5),
    ("011001", 9.3), ("011010", 9.2), ("011011", 8.5), ("011020", 8.5),
    ("011021", 7.3), ("011100", 9.2), ("011101", 8.2), ("011110", 8.0),
    ("011111", 7.2), ("011120", 7.0), ("011121", 5.9), ("011200", 8.4),
    ("011201", 7.0), ("011210", 7.1), ("011211", 5.2), ("011220", 5.0),
    ("011221", 3.0), ("012001", 8.6), ("012011", 7.5), ("012021", 5.2),
    ("012101", 7.1), ("012111", 5.2), ("012121", 2.9), ("012201", 6.3),
    ("012211", 2.9), ("012221", 1.7), ("100000", 9.8), ("100001", 9.5),
    ("100010", 9.4), ("100011", 8.7), ("100020", 9.1), ("100021", 8.1),
    ("100100", 9.4), ("100101", 8.9), ("100110", 8.6), ("100111", 7.4),
    ("100120", 7.7), ("100121", 6.4), ("100200", 8.7), ("100201", 7.5),
    ("100210", 7.4), ("100211", 6.3), ("100220", 6.3), ("100221", 4.9),
    ("101000", 9.4), ("101001", 8.9), ("101010", 8.8), ("101011", 7.7),
    ("101020", 7.6), ("101021", 6.7), ("101100", 8.6), ("101101", 7.6),
    ("101110", 7.4), ("101111", 5.8), ("101120", 5.9), ("101121", 5.0),
    ("101200", 7.2), ("101201", 5.7), ("101210", 5.7), ("101211", 5.2),
    ("101220", 5.2), ("101221", 2.5), ("102001", 8.3), ("102011", 7.0),
    ("102021", 5.4), ("102101", 6.5), ("102111", 5.8), ("102121", 2.6),
    ("102201", 5.3), ("102211", 2.1), ("102221", 1.3), ("110000", 9.5),
    ("110001", 9.0), ("110010", 8.8), ("110011", 7.6), ("110020", 7.6),
    ("110021", 7.0), ("110100", 9.0), ("110101", 7.7), ("110110", 7.5),
    ("110111", 6.2), ("110120", 6.1), ("110121", 5.3), ("110200", 7.7),
    ("110201", 6.6), ("110210", 6.8), ("110211", 5.9), ("110220", 5.2),
    ("110221", 3.0), ("111000", 8.9), ("111001", 7.8), ("111010", 7.6),
    ("111011", 6.7), ("111020", 6.2), ("111021", 5.8), ("111100", 7.4),
    ("111101", 5.9), ("111110", 5.7), ("111111", 5.7), ("111120", 4.7),
    ("111121", 2.3), ("111200", 6.1), ("111201", 5.2), ("111210", 5.7),
    ("111211", 2.9), ("111220", 2.4), ("111221", 1.6), ("112001", 7.1),
    ("112011", 5.9), ("112021", 3.0), ("112101", 5.8), ("112111", 2.6),
    ("112121", 1.5), ("112201", 2.3), ("112211", 1.3), ("112221", 0.6),
    ("200000", 9.3), ("200001", 8.7), ("200010", 8.6), ("200011", 7.2),
    ("200020", 7.5), ("200021", 5.8), ("200100", 8.6), ("200101", 7.4),
    ("200110", 7.4), ("200111", 6.1), ("200120", 5.6), ("200121", 3.4),
    ("200200", 7.0), ("200201", 5.4), ("200210", 5.2), ("200211", 4.0),
    ("200220", 4.0), ("200221", 2.2), ("201000", 8.5), ("201001", 7.5),
    ("201010", 7.4), ("201011", 5.5), ("201020", 6.2), ("201021", 5.1),
    ("201100", 7.2), ("201101", 5.7), ("201110", 5.5), ("201111", 4.1),
    ("201120", 4.6), ("201121", 1.9), ("201200", 5.3), ("201201", 3.6),
    ("201210", 3.4), ("201211", 1.9), ("201220", 1.9), ("201221", 0.8),
    ("202001", 6.4), ("202011", 5.1), ("202021", 2.0), ("202101", 4.7),
    ("202111", 2.1), ("202121", 1.1), ("202201", 2.4), ("202211", 0.9),
    ("202221", 0.4), ("210000", 8.8), ("210001", 7.5), ("210010", 7.3),
    ("210011", 5.3), ("210020", 6.0), ("210021", 5.0), ("210100", 7.3),
    ("210101", 5.5), ("210110", 5.9), ("210111", 4.0), ("210120", 4.1),
    ("210121", 2.0), ("210200", 5.4), ("210201", 4.3), ("210210", 4.5),
    ("210211", 2.2), ("210220", 2.0), ("210221", 1.1), ("211000", 7.5),
    ("211001", 5.5), ("211010", 5.8), ("211011", 4.5), ("211020", 4.0),
    ("211021", 2.1), ("211100", 6.1), ("211101", 5.1), ("211110", 4.8),
    ("211111", 1.8), ("211120", 2.0), ("211121", 0.9), ("211200", 4.6),
    ("211201", 1.8), ("211210", 1.7), ("211211", 0.7), ("211220", 0.8),
    ("211221", 0.2), ("212001", 5.3), ("212011", 2.4), ("212021", 1.4),
    ("212101", 2.4), ("212111", 1.2), ("212121", 0.5), ("212201", 1.0),
    ("212211", 0.3), ("212221", 0.1),
];

/// Highest-severity vectors of each equivalence class (`max_composed.js`), as metric
/// values; EQ3 and EQ6 are one joint class.
const EQ1_MAX: [&[&str]; 3] = [
    &["AV:N/PR:N/UI:N"],
    &["AV:A/PR:N/UI:N", "AV:N/PR:L/UI:N", "AV:N/PR:N/UI:P"],
    &["AV:P/PR:N/UI:N", "AV:A/PR:L/UI:P"],
];
const EQ2_MAX: [&[&str]; 2] = [&["AC:L/AT:N"], &["AC:H/AT:N", "AC:L/AT:P"]];
/// Indexed by EQ3 then EQ6 (EQ3 = 2 only occurs with EQ6 = 1).
const EQ3_EQ6_MAX: [[&[&str]; 2]; 3] = [
    [
        &["VC:H/VI:H/VA:H/CR:H/IR:H/AR:H"],
        &[
            "VC:H/VI:H/VA:L/CR:M/IR:M/AR:H",
            "VC:H/VI:H/VA:H/CR:M/IR:M/AR:M",
        ],
    ],
    [
        &[
            "VC:L/VI:H/VA:H/CR:H/IR:H/AR:H",
            "VC:H/VI:L/VA:H/CR:H/IR:H/AR:H",
        ],
        &[
            "VC:L/VI:H/VA:L/CR:H/IR:M/AR:H",
            "VC:L/VI:H/VA:H/CR:H/IR:M/AR:M",
            "VC:H/VI:L/VA:H/CR:M/IR:H/AR:M",
            "VC:H/VI:L/VA:L/CR:M/IR:H/AR:H",
            "VC:L/VI:L/VA:H/CR:H/IR:H/AR:M",
        ],
    ],
    [&[], &["VC:L/VI:L/VA:L/CR:H/IR:H/AR:H"]],
];
const EQ4_MAX: [&[&str]; 3] = [
    &["SC:H/SI:S/SA:S"],
    &["SC:H/SI:H/SA:H"],
    &["SC:L/SI:L/SA:L"],
];

/// Maximal severity distances inside each class (`max_severity.js`), in steps of 0.1.
const EQ1_DEPTH: [f64; 3] = [1.0, 4.0, 5.0];
const EQ2_DEPTH: [f64; 2] = [1.0, 2.0];
const EQ3_EQ6_DEPTH: [[f64; 2]; 3] = [[7.0, 6.0], [8.0, 8.0], [f64::NAN, 10.0]];
const EQ4_DEPTH: [f64; 3] = [6.0, 5.0, 4.0];

/// Severity levels of metric values for the distance computation (`cvss_score.js`); NaN
/// for a value the metric does not have.
fn level(metric: &str, value: &str) -> f64 {
    let table: &[(&str, f64)] = match metric {
        "AV" => &[("N", 0.0), ("A", 0.1), ("L", 0.2), ("P", 0.3)],
        "PR" => &[("N", 0.0), ("L", 0.1), ("H", 0.2)],
        "UI" => &[("N", 0.0), ("P", 0.1), ("A", 0.2)],
        "AC" => &[("L", 0.0), ("H", 0.1)],
        "AT" => &[("N", 0.0), ("P", 0.1)],
        "VC" | "VI" | "VA" => &[("H", 0.0), ("L", 0.1), ("N", 0.2)],
        "SC" => &[("H", 0.1), ("L", 0.2), ("N", 0.3)],
        "SI" | "SA" => &[("S", 0.0), ("H", 0.1), ("L", 0.2), ("N", 0.3)],
        "CR" | "IR" | "AR" => &[("H", 0.0), ("M", 0.1), ("L", 0.2)],
        _ => &[],
    };
    table
        .iter()
        .find(|(v, _)| *v == value)
        .map_or(f64::NAN, |(_, l)| *l)
}

/// A validated vector: the value of each metric in [`METRICS`] order (`X` when absent).
struct Vector<'a> {
    values: [&'a str; METRICS.len()],
    /// The scoring value of each metric in [`SCORED`] order, worked out once.
    effective: [&'a str; SCORED.len()],
}

/// The metrics scoring reads (through [`Vector::m`]).
const SCORED: [&str; 15] = [
    "AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA", "E", "CR", "IR", "AR",
];

impl<'a> Vector<'a> {
    fn raw(&self, metric: &str) -> &'a str {
        METRICS
            .iter()
            .position(|(m, _)| *m == metric)
            .map_or("X", |i| self.values[i])
    }

    /// The value that scores (see [`Vector::effective_of`]), for a metric of [`SCORED`].
    fn m(&self, metric: &str) -> &'a str {
        let i = match metric {
            "AV" => 0,
            "AC" => 1,
            "AT" => 2,
            "PR" => 3,
            "UI" => 4,
            "VC" => 5,
            "VI" => 6,
            "VA" => 7,
            "SC" => 8,
            "SI" => 9,
            "SA" => 10,
            "E" => 11,
            "CR" => 12,
            "IR" => 13,
            "AR" => 14,
            _ => return self.raw(metric),
        };
        self.effective[i]
    }

    /// The value that scores: a defined modified metric wins over the base metric;
    /// undefined `E` is `A` and undefined `CR`, `IR`, `AR` are `H` (the worst case).
    fn effective_of(&self, metric: &str) -> &'a str {
        match (metric, self.raw(metric)) {
            ("E", "X") => "A",
            ("CR" | "IR" | "AR", "X") => "H",
            (_, base) => {
                let modified = match metric {
                    "AV" => "MAV",
                    "AC" => "MAC",
                    "AT" => "MAT",
                    "PR" => "MPR",
                    "UI" => "MUI",
                    "VC" => "MVC",
                    "VI" => "MVI",
                    "VA" => "MVA",
                    "SC" => "MSC",
                    "SI" => "MSI",
                    "SA" => "MSA",
                    _ => return base,
                };
                match self.raw(modified) {
                    "X" => base,
                    m => m,
                }
            }
        }
    }
}

/// Parses the part after `CVSS:4.0/`. Metrics must be known, valid, not repeated, and the
/// eleven base metrics present.
fn parse(rest: &str) -> Result<Vector<'_>, String> {
    let mut values = ["X"; METRICS.len()];
    let mut seen = [false; METRICS.len()];
    for part in rest.split('/') {
        let (k, v) = part
            .split_once(':')
            .ok_or_else(|| format!("metric `{part}` is not KEY:VALUE"))?;
        let i = METRICS
            .iter()
            .position(|(m, _)| *m == k)
            .ok_or_else(|| format!("`{k}` is not a CVSS v4.0 metric"))?;
        if seen[i] {
            return Err(format!("metric `{k}` given twice"));
        }
        if !METRICS[i].1.contains(&v) {
            return Err(format!(
                "`{k}:{v}` is not a valid value (expected one of {})",
                METRICS[i].1.join(", ")
            ));
        }
        seen[i] = true;
        values[i] = v;
    }
    if let Some(i) = seen[..BASE].iter().position(|s| !s) {
        return Err(format!("base metric `{}` missing", METRICS[i].0));
    }
    let mut v = Vector {
        values,
        effective: ["X"; SCORED.len()],
    };
    v.effective = SCORED.map(|m| v.effective_of(m));
    Ok(v)
}

/// The macro vector: the six equivalence class digits.
fn macro_vector(v: &Vector<'_>) -> [u8; 6] {
    let (av, pr, ui) = (v.m("AV"), v.m("PR"), v.m("UI"));
    let eq1 = if av == "N" && pr == "N" && ui == "N" {
        0
    } else if (av == "N" || pr == "N" || ui == "N") && av != "P" {
        1
    } else {
        2
    };
    let eq2 = u8::from(!(v.m("AC") == "L" && v.m("AT") == "N"));
    let (vc, vi, va) = (v.m("VC"), v.m("VI"), v.m("VA"));
    let eq3 = if vc == "H" && vi == "H" {
        0
    } else if vc == "H" || vi == "H" || va == "H" {
        1
    } else {
        2
    };
    // As the calculator: only the modified MSI/MSA can be `S` (Safety).
    let eq4 = if v.raw("MSI") == "S" || v.raw("MSA") == "S" {
        0
    } else if v.m("SC") == "H" || v.m("SI") == "H" || v.m("SA") == "H" {
        1
    } else {
        2
    };
    let eq5 = match v.m("E") {
        "A" => 0,
        "P" => 1,
        _ => 2,
    };
    let eq6 = u8::from(
        !((v.m("CR") == "H" && vc == "H")
            || (v.m("IR") == "H" && vi == "H")
            || (v.m("AR") == "H" && va == "H")),
    );
    [eq1, eq2, eq3, eq4, eq5, eq6]
}

/// The lookup score of a macro vector, NaN when it does not exist (as the calculator's
/// `undefined` arithmetic gives).
fn lookup(mv: [u8; 6]) -> f64 {
    /// The table by macro-vector index (digits in mixed radix 3·2·3·3·3·2), built once.
    static TABLE: std::sync::OnceLock<[f64; 324]> = std::sync::OnceLock::new();
    fn index(d: [u8; 6]) -> Option<usize> {
        const RADIX: [u8; 6] = [3, 2, 3, 3, 3, 2];
        d.iter().zip(RADIX).try_fold(0usize, |acc, (&x, r)| {
            (x < r).then(|| acc * usize::from(r) + usize::from(x))
        })
    }
    let table = TABLE.get_or_init(|| {
        let mut t = [f64::NAN; 324];
        for (k, score) in LOOKUP {
            let b = k.as_bytes();
            let d = [0, 1, 2, 3, 4, 5].map(|i| b[i] - b'0');
            if let Some(i) = index(d) {
                t[i] = *score;
            }
        }
        t
    });
    index(mv).map_or(f64::NAN, |i| table[i])
}

fn with(mv: [u8; 6], i: usize, by: u8) -> [u8; 6] {
    let mut m = mv;
    m[i] += by;
    m
}

/// The base score (with threat and environmental metrics applied) of the part of a vector
/// after `CVSS:4.0/`.
pub fn score(rest: &str) -> Result<f64, String> {
    let v = parse(rest)?;
    if ["VC", "VI", "VA", "SC", "SI", "SA"]
        .iter()
        .all(|m| v.m(m) == "N")
    {
        return Ok(0.0);
    }
    let mv = macro_vector(&v);
    let value = lookup(mv);
    let [eq1, eq2, eq3, eq4, _, eq6] = mv.map(usize::from);

    // Scores of the next lower macro vector in each class (NaN when there is none).
    let lower_eq1 = lookup(with(mv, 0, 1));
    let lower_eq2 = lookup(with(mv, 1, 1));
    let lower_eq3eq6 = match (eq3, eq6) {
        (0, 0) => {
            let left = lookup(with(mv, 5, 1));
            let right = lookup(with(mv, 2, 1));
            if left > right { left } else { right }
        }
        (1, 1) | (0, 1) => lookup(with(mv, 2, 1)),
        (1, 0) => lookup(with(mv, 5, 1)),
        _ => lookup(with(with(mv, 2, 1), 5, 1)),
    };
    let lower_eq4 = lookup(with(mv, 3, 1));
    let lower_eq5 = lookup(with(mv, 4, 1));

    // The first highest-severity vector of the macro vector that the vector does not exceed.
    // The first highest-severity vector of the macro vector (trying EQ1's, then EQ2's, …
    // candidates in the calculator's nested order) that the vector does not exceed; the
    // severity distances to it. Each class's candidates set only that class's metrics, so
    // the first fitting combination is the first fitting candidate of every class; when
    // some class has none, the calculator ends on its last combination, the last candidate
    // of every class.
    let own = |metric: &str| level(metric, v.m(metric));
    let classes: [(&[&str], &[&str]); 4] = [
        (EQ1_MAX[eq1], &["AV", "PR", "UI"]),
        (EQ2_MAX[eq2], &["AC", "AT"]),
        (EQ3_EQ6_MAX[eq3][eq6], &["VC", "VI", "VA", "CR", "IR", "AR"]),
        (EQ4_MAX[eq4], &["SC", "SI", "SA"]),
    ];
    let distances_to = |candidate: &str, metrics: &[&str]| -> Vec<f64> {
        metrics
            .iter()
            .map(|metric| {
                let max_value = candidate
                    .split('/')
                    .find_map(|kv| kv.strip_prefix(metric)?.strip_prefix(':'))
                    .unwrap_or("X");
                own(metric) - level(metric, max_value)
            })
            .collect()
    };
    let mut first_fit: Vec<Option<Vec<f64>>> = Vec::with_capacity(4);
    let mut last: Vec<Vec<f64>> = Vec::with_capacity(4);
    for (candidates, metrics) in classes {
        let all: Vec<Vec<f64>> = candidates
            .iter()
            .map(|c| distances_to(c, metrics))
            .collect();
        first_fit.push(all.iter().find(|d| !d.iter().any(|x| *x < 0.0)).cloned());
        last.push(all.last().cloned().unwrap_or_default());
    }
    let chosen: Vec<Vec<f64>> = if first_fit.iter().all(Option::is_some) {
        first_fit.into_iter().flatten().collect()
    } else {
        last
    };
    let d = |class: usize, i: usize| chosen[class].get(i).copied().unwrap_or(f64::NAN);
    let distances = [
        d(0, 0),
        d(0, 1),
        d(0, 2),
        d(1, 0),
        d(1, 1),
        d(2, 0),
        d(2, 1),
        d(2, 2),
        d(3, 0),
        d(3, 1),
        d(3, 2),
        d(2, 3),
        d(2, 4),
        d(2, 5),
    ];
    let [av, pr, ui, ac, at, vc, vi, va, sc, si, sa, cr, ir, ar] = distances;
    let current_eq1 = av + pr + ui;
    let current_eq2 = ac + at;
    let current_eq3eq6 = vc + vi + va + cr + ir + ar;
    let current_eq4 = sc + si + sa;

    let step = 0.1;
    let available = [
        value - lower_eq1,
        value - lower_eq2,
        value - lower_eq3eq6,
        value - lower_eq4,
        value - lower_eq5,
    ];
    let max_severity = [
        EQ1_DEPTH[eq1] * step,
        EQ2_DEPTH[eq2] * step,
        EQ3_EQ6_DEPTH[eq3][eq6] * step,
        EQ4_DEPTH[eq4] * step,
    ];
    let current = [current_eq1, current_eq2, current_eq3eq6, current_eq4];
    let mut normalized = [0.0f64; 5];
    let mut existing = 0u32;
    for i in 0..5 {
        if available[i].is_nan() {
            continue;
        }
        existing += 1;
        // EQ5's proportion is always 0.
        let percent = if i < 4 {
            current[i] / max_severity[i]
        } else {
            0.0
        };
        normalized[i] = available[i] * percent;
    }
    let mean = if existing == 0 {
        0.0
    } else {
        (normalized[0] + normalized[1] + normalized[2] + normalized[3] + normalized[4])
            / f64::from(existing)
    };
    let score = (value - mean).clamp(0.0, 10.0);
    Ok(((score + 1e-6) * 10.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lookup_table_has_every_possible_macro_vector() {
        // 3 × 2 × (3 × 2 − 1 impossible EQ3/EQ6 pair) × 3 × 3 = 270.
        assert_eq!(LOOKUP.len(), 270);
        for eq1 in 0..3 {
            for eq2 in 0..2 {
                for eq3 in 0..3 {
                    for eq6 in 0..2 {
                        for eq4 in 0..3 {
                            for eq5 in 0..3 {
                                let s = lookup([eq1, eq2, eq3, eq4, eq5, eq6]);
                                assert_eq!(s.is_nan(), eq3 == 2 && eq6 == 0);
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn invalid_vectors_are_rejected_with_the_reason() {
        let ok = "AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
        assert!(score(ok).is_ok());
        assert!(score(&format!("{ok}/E:Q")).unwrap_err().contains("E:Q"));
        assert!(score(&format!("{ok}/XX:Y")).unwrap_err().contains("XX"));
        assert!(score(&format!("{ok}/AV:N")).unwrap_err().contains("twice"));
        assert!(score("AV:N/AC:L").unwrap_err().contains("AT"));
        assert!(
            score(&format!("{ok}/SI:S")).is_err(),
            "S is only for MSI/MSA"
        );
    }
}
