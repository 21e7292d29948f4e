//! The HTML report (`qplan --format html`): one self-contained page, inline
//! CSS and SVG, nothing fetched, readable with scripts off. Per track: supply
//! against cumulative demand by triage per skill (where the line is), the
//! shortage chart, the release chart, the trend across stored versions when
//! there is one, and the ranked work table; then the data's provenance.
//!
//! Charts are drawn from the data, and say so in their markup: every bar,
//! mark and line carries the number it stands for in a `data-` attribute
//! (the exact decimal the results hold), and its coordinates follow from
//! the constants below, so tests can check both.
//!
//! - Horizontal scales: a chart's plot starts at `x = LABEL` and is `PLOT`
//!   wide. Supply and demand: `x(v) = LABEL + PLOT · v / max`, `max` the
//!   largest supply or deepest cumulative demand of the skills drawn.
//!   Shortage: a bar starts at `LABEL`, each skill's part is
//!   `PLOT · |short| / max`, `max` the largest total shortage of an item
//!   drawn. Release: `x(d) = LABEL + PLOT · (d − start) / (end − start)` in
//!   days; DNF items are crosses at `x = LABEL + PLOT + 40`.
//! - Rows: `y = TOP + i · row` (row 28 for skills, 18 for short items, 14
//!   for releases); the trend's person-weeks chart is `TREND_H` high.
//! - Coordinates are rounded to a tenth of a pixel.
//!
//! Bounds, so that the page stays linear in the results and its charts
//! readable (each stated on the page): the shortage chart draws the first
//! [`SHORT_CAP`] short items of a track in rank order, the release chart the
//! first [`RELEASE_CAP`] items (the rest are counted); the trend reads at
//! most [`super::trend::MAX_VERSIONS`] versions; skills with neither supply
//! nor demand in a track are left out of its charts. The work tables are
//! complete up to [`TABLE_ROWS`] rows in all (100,000: a plan of 50,000
//! items); beyond, each list shows its first rows in rank order.
//!
//! Every string from the data is escaped ([`esc`]); the page's
//! Content-Security-Policy allows only its own style and script (by hash),
//! so nothing is loaded from anywhere and no injected script could run.

use std::fmt::Write as _;
use std::io::{self, Write};

use chrono::{Datelike, NaiveDate};
use sha2::{Digest, Sha256};

use super::render::{params, View};
use super::trend::{ProvenanceRow, TrackSummary, Trend};
use crate::model::{Amount, Triage};
use crate::plan::results::{in_chunks, push_date, Results, TrackRow};
use crate::rules::fields;
use crate::snap::history::show_time;

/// The left column of every chart (labels).
pub const LABEL: f64 = 160.0;
/// The plot's width.
pub const PLOT: f64 = 480.0;
/// The chart's width: labels, plot, and a column for values or DNF marks.
pub const WIDTH: f64 = 780.0;
/// The top margin of the supply, shortage and release charts.
pub const TOP: f64 = 24.0;
pub const SUPPLY_ROW: f64 = 28.0;
pub const SHORT_ROW: f64 = 18.0;
pub const RELEASE_ROW: f64 = 14.0;
/// The height of the trend's person-weeks plot, and of its items plot.
pub const TREND_H: f64 = 160.0;
pub const ITEMS_H: f64 = 80.0;
/// Where DNF items are marked on the release chart.
pub const DNF_X: f64 = LABEL + PLOT + 40.0;
/// Short items drawn per track.
pub const SHORT_CAP: usize = 100;
/// Items drawn per track on the release chart.
pub const RELEASE_CAP: usize = 200;
/// Rows of all the work tables together: a plan of up to 50,000 items
/// (each listed in All and its own track) is listed whole; a larger one
/// gets the first rows of each list in rank order, shared out by
/// [`table_shares`], so that a million items make a page of about 10 MB
/// rather than 150.
pub const TABLE_ROWS: usize = 100_000;
/// Characters of an item's name shown in a chart label (the whole name is
/// its tooltip and in the table).
const LABEL_CHARS: usize = 24;
/// Colours for skills (`s0`…`s7`, repeating).
const PALETTE: usize = 8;

/// What the report shows besides the results.
#[derive(Debug, Default)]
pub struct Extras<'a> {
    /// The stored versions (`--store`).
    pub trend: Option<&'a Trend>,
    /// The provenance, with times when known.
    pub provenance: Vec<ProvenanceRow>,
    /// Whether a store was given (to look times up).
    pub store: bool,
}

const STYLE: &str = "
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:1100px;padding:0 1em;color:#222;background:#fff}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #ccc;margin-top:2em}h3{margin-bottom:.3em}
table{border-collapse:collapse;margin:.5em 0}th,td{padding:2px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
table.work td:nth-child(-n+2){text-align:right}table.work td:nth-child(3),table.work td:nth-child(8){white-space:nowrap}tr.short td:nth-child(7){color:#b00020}tr.dnf td:nth-child(8){color:#b00020;font-weight:bold}
.note{color:#555;font-size:.92em}.legend span{display:inline-block;margin-right:1em}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
svg.chart{display:block;max-width:100%;height:auto;margin:.3em 0}
svg text{font:11px system-ui,sans-serif;fill:#333}svg .axis{stroke:#999;stroke-width:1}svg .grid{stroke:#ddd;stroke-width:1}
.t0{fill:#7f2704;background:#7f2704}.t1{fill:#d94801;background:#d94801}.t2{fill:#fd8d3c;background:#fd8d3c}
.t3{fill:#fdbe85;background:#fdbe85}.t4{fill:#feedde;background:#feedde}
svg .d{stroke:#fff;stroke-width:.5}svg line.supply{stroke:#08519c;stroke-width:3}i.supply{background:#08519c}
.s0{fill:#1b9e77;stroke:#1b9e77;background:#1b9e77}.s1{fill:#d95f02;stroke:#d95f02;background:#d95f02}
.s2{fill:#7570b3;stroke:#7570b3;background:#7570b3}.s3{fill:#e7298a;stroke:#e7298a;background:#e7298a}
.s4{fill:#66a61e;stroke:#66a61e;background:#66a61e}.s5{fill:#e6ab02;stroke:#e6ab02;background:#e6ab02}
.s6{fill:#a6761d;stroke:#a6761d;background:#a6761d}.s7{fill:#666;stroke:#666;background:#666}
svg polyline{fill:none;stroke-width:2}svg polyline.demand{stroke-dasharray:5 3}
svg circle.done{fill:#2171b5}svg path.dnf{stroke:#b00020;stroke-width:2}svg line.end{stroke:#b00020;stroke-width:2;stroke-dasharray:4 2}
svg rect.items{fill:#eee;stroke:#999}svg rect.above{fill:#2171b5}
nav.tracks a{margin-right:.8em}#filter{margin:1em 0;padding:.5em;background:#f4f4f4}
";

/// The track filter. The page is whole without it: every track's section
/// is there, and the links above reach each.
const SCRIPT: &str = "
document.documentElement.className='js';
(function(){var f=document.getElementById('filter'),s=document.getElementById('track-filter');
if(!f||!s)return;f.hidden=false;
s.onchange=function(){var v=s.value,a=document.querySelectorAll('section.track');
for(var i=0;i<a.length;i++){a[i].hidden=v!=='*'&&a[i].getAttribute('data-index')!==v;}};})();
";

/// `'sha256-…'` of a text, for the Content-Security-Policy.
pub fn csp_hash(text: &str) -> String {
    format!("'sha256-{}'", base64(&Sha256::digest(text.as_bytes())))
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Appends `s` escaped for HTML text and double- or single-quoted
/// attribute values. Control characters (but TAB and line feed), which
/// HTML does not allow, become U+FFFD.
pub fn esc(buf: &mut String, s: &str) {
    if !s
        .bytes()
        .any(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'') || (b < 0x20 && b != b'\t'))
        && !s.contains(|c: char| c.is_control())
    {
        buf.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '&' => buf.push_str("&amp;"),
            '<' => buf.push_str("&lt;"),
            '>' => buf.push_str("&gt;"),
            '"' => buf.push_str("&quot;"),
            '\'' => buf.push_str("&#39;"),
            '\t' => buf.push('\t'),
            c if c.is_control() => buf.push('\u{FFFD}'),
            c => buf.push(c),
        }
    }
}

/// A coordinate, to a tenth of a pixel, without a trailing `.0`.
fn px(buf: &mut String, x: f64) {
    let tenths = (x * 10.0).round() as i64;
    let (whole, frac) = (tenths / 10, (tenths % 10).abs());
    if tenths < 0 && whole == 0 {
        buf.push('-');
    }
    buf.push_str(itoa::Buffer::new().format(whole));
    if frac != 0 {
        buf.push('.');
        buf.push(char::from(b'0' + frac as u8));
    }
}

/// `name="x"` with a coordinate.
fn attr_px(buf: &mut String, name: &str, x: f64) {
    buf.push(' ');
    buf.push_str(name);
    buf.push_str("=\"");
    px(buf, x);
    buf.push('"');
}

/// `name="value"` with the value escaped.
fn attr(buf: &mut String, name: &str, value: &str) {
    buf.push(' ');
    buf.push_str(name);
    buf.push_str("=\"");
    esc(buf, value);
    buf.push('"');
}

/// The first `n` characters of `s`, with `…` when cut.
fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut c: String = s.chars().take(n - 1).collect();
        c.push('…');
        c
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Amounts as `Apps:2, Web:1`, escaped.
fn push_amounts(buf: &mut String, scratch: &mut String, r: &Results, a: &[(u32, Amount)]) {
    scratch.clear();
    for (i, &(k, v)) in a.iter().enumerate() {
        if i > 0 {
            scratch.push_str(", ");
        }
        scratch.push_str(&r.skills[k as usize]);
        scratch.push(':');
        v.push_to(scratch);
    }
    esc(buf, scratch);
}

/// The report. `view` narrows it like the other human formats.
pub fn html(r: &Results, view: View, extras: &Extras, out: &mut dyn Write) -> io::Result<()> {
    let (start, end, sched) = params(r);
    let mut b = String::with_capacity(1 << 16);
    b.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
    let _ = writeln!(
        b,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src {}; script-src {}\">",
        csp_hash(STYLE),
        csp_hash(SCRIPT)
    );
    b.push_str(
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Plan ",
    );
    esc(&mut b, start);
    b.push_str(" to ");
    esc(&mut b, end);
    b.push_str("</title>\n<style>");
    b.push_str(STYLE);
    b.push_str("</style>\n</head>\n<body>\n<h1>Plan ");
    esc(&mut b, start);
    b.push_str(" to ");
    esc(&mut b, end);
    b.push_str("</h1>\n<p>Scheduled on ");
    esc(
        &mut b,
        &if sched.is_empty() {
            "no skills".to_owned()
        } else {
            sched.join(", ")
        },
    );
    let tracks = view.tracks(r);
    let _ = write!(
        b,
        ". {}, {}, {}",
        plural(r.tracks.len(), "track", "tracks"),
        plural(r.skills.len(), "skill", "skills"),
        plural(
            r.work.first().map_or(0, Vec::len),
            "work item",
            "work items"
        ),
    );
    if let Some(level) = view.triage {
        let _ = write!(b, "; work of triage {level} or more important");
    }
    b.push_str(".</p>\n");
    if let Some(p) = extras.provenance.first() {
        b.push_str("<p class=\"note\">From ");
        esc(&mut b, &p.resource);
        b.push(' ');
        esc(&mut b, &p.commit[..p.commit.len().min(12)]);
        if let Some(t) = &p.time {
            b.push_str(" of ");
            esc(&mut b, t);
        }
        b.push_str(" (<a href=\"#provenance\">provenance</a>).</p>\n");
    }

    // The track filter (shown by the script) and links to every track.
    b.push_str("<div id=\"filter\" hidden><label>Show track <select id=\"track-filter\"><option value=\"*\">every track</option>");
    for &t in &tracks {
        let _ = write!(b, "<option value=\"{t}\">");
        esc(&mut b, &r.tracks[t]);
        b.push_str("</option>");
    }
    b.push_str("</select></label></div>\n<nav class=\"tracks\">Tracks: ");
    for &t in &tracks {
        let _ = write!(b, "<a href=\"#track-{t}\">");
        esc(&mut b, &r.tracks[t]);
        b.push_str("</a> ");
    }
    b.push_str(
        "· <a href=\"#provenance\">provenance</a> · <a href=\"#about\">about this report</a></nav>\n",
    );

    let level = view.levels().last().map_or(4, |l| l.index());
    let shown: Vec<usize> = tracks
        .iter()
        .map(|&t| r.work[t].iter().filter(|row| view.shows(r, row)).count())
        .collect();
    let shares = table_shares(&shown, TABLE_ROWS);
    for (&t, &share) in tracks.iter().zip(&shares) {
        let rows: Vec<&TrackRow> = r.work[t].iter().filter(|row| view.shows(r, row)).collect();
        let short = rows.iter().filter(|row| !row.shortage.is_empty()).count();
        let dnf = rows.iter().filter(|row| row.done.is_none()).count();
        let _ = write!(
            b,
            "\n<section class=\"track\" id=\"track-{t}\" data-index=\"{t}\""
        );
        attr(&mut b, "data-track", &r.tracks[t]);
        b.push_str(">\n<h2>");
        esc(&mut b, &r.tracks[t]);
        let _ = writeln!(
            b,
            "</h2>\n<p>{}, {}, {} short, {} DNF.</p>",
            plural(r.heads[t], "person", "people"),
            plural(rows.len(), "item", "items"),
            short,
            dnf
        );
        supply_chart(&mut b, r, view, t);
        shortage_chart(&mut b, r, t, &rows, short);
        release_chart(&mut b, r, t, &rows, start, end);
        if let Some(trend) = extras.trend {
            let mut all = vec![trend];
            all.extend(trend.replay.as_ref().map(|(_, replay)| &**replay));
            let shared = trend_scale(&all, &r.tracks[t], level);
            trend_chart(&mut b, r, trend, t, level, None, &shared);
            if let Some((name, replay)) = &trend.replay {
                trend_chart(&mut b, r, replay, t, level, Some(name), &shared);
            }
        }
        out.write_all(b.as_bytes())?;
        b.clear();
        work_table(r, &rows, share, out)?;
        out.write_all(b"</section>\n")?;
    }

    provenance(&mut b, extras);
    about(&mut b, extras);
    b.push_str("<script>");
    b.push_str(SCRIPT);
    b.push_str("</script>\n</body>\n</html>\n");
    out.write_all(b.as_bytes())
}

/// The skills drawn for a track: those with supply or demand there.
fn drawn_skills(r: &Results, t: usize) -> Vec<usize> {
    (0..r.skills.len())
        .filter(|&k| r.manpower[t][k].is_positive() || r.demand[t][4][k].is_positive())
        .collect()
}

/// Per skill a bar of cumulative demand, one part per triage level, and
/// the supply as a vertical line across it: where the line is. Then the
/// same numbers as a table.
fn supply_chart(b: &mut String, r: &Results, view: View, t: usize) {
    let levels = view.levels();
    let last = levels.last().map_or(4, |l| l.index());
    b.push_str("<h3>Supply against demand</h3>\n");
    let skills = drawn_skills(r, t);
    if skills.is_empty() {
        b.push_str("<p>No supply and no demand in this track.</p>\n");
        return;
    }
    let max = skills
        .iter()
        .map(|&k| r.manpower[t][k].max(r.demand[t][last][k]))
        .max()
        .unwrap_or(Amount::ZERO);
    let scale = if max.is_positive() { max.to_f64() } else { 1.0 };
    let x = |v: Amount| LABEL + PLOT * v.to_f64() / scale;
    b.push_str("<p class=\"legend\">");
    for l in levels {
        let _ = write!(
            b,
            "<span><i class=\"t{}\"></i>demand of triage {l}</span>",
            l.index()
        );
    }
    b.push_str("<span><i class=\"supply\"></i>supply</span></p>\n");
    let height = TOP + SUPPLY_ROW * skills.len() as f64 + 8.0;
    svg_open(b, "supply", height, &r.tracks[t]);
    b.push_str(" data-max=\"");
    max.push_to(b);
    b.push_str("\">\n");
    let _ = write!(
        b,
        "<text x=\"{LABEL}\" y=\"14\">0</text><text x=\"{}\" y=\"14\" text-anchor=\"end\">",
        LABEL + PLOT
    );
    max.push_to(b);
    b.push_str(" person-weeks</text>\n");
    let _ = writeln!(
        b,
        "<line class=\"axis\" x1=\"{LABEL}\" x2=\"{LABEL}\" y1=\"18\" y2=\"{height}\"/>"
    );
    for (i, &k) in skills.iter().enumerate() {
        let y = TOP + SUPPLY_ROW * i as f64;
        let supply = r.manpower[t][k];
        let demand = &r.demand[t];
        // The first level whose cumulative demand exceeds the supply.
        let line = levels
            .iter()
            .find(|l| demand[l.index()][k] > supply)
            .map_or("none", |l| l.as_str());
        b.push_str("<g class=\"skill\"");
        attr(b, "data-skill", &r.skills[k]);
        b.push_str(" data-supply=\"");
        supply.push_to(b);
        b.push_str("\" data-demand=\"");
        for (j, l) in levels.iter().enumerate() {
            if j > 0 {
                b.push(' ');
            }
            demand[l.index()][k].push_to(b);
        }
        let _ = write!(b, "\" data-line=\"{line}\">");
        b.push_str("<text");
        attr_px(b, "x", LABEL - 8.0);
        attr_px(b, "y", y + 13.0);
        b.push_str(" text-anchor=\"end\">");
        esc(b, &r.skills[k]);
        b.push_str("</text>\n");
        let mut prev = Amount::ZERO;
        for l in levels {
            let cum = demand[l.index()][k];
            if cum > prev {
                let _ = write!(b, "<rect class=\"d t{}\"", l.index());
                let _ = write!(b, " data-triage=\"{l}\" data-cum=\"");
                cum.push_to(b);
                b.push('"');
                attr_px(b, "x", x(prev));
                attr_px(b, "y", y + 2.0);
                attr_px(b, "width", x(cum) - x(prev));
                b.push_str(" height=\"16\"><title>");
                esc(b, &r.skills[k]);
                let _ = write!(b, ": demand of triage ≤{l} ");
                cum.push_to(b);
                b.push_str(" person-weeks</title></rect>\n");
            }
            prev = prev.max(cum);
        }
        b.push_str("<line class=\"supply\"");
        attr_px(b, "x1", x(supply));
        attr_px(b, "x2", x(supply));
        attr_px(b, "y1", y - 2.0);
        attr_px(b, "y2", y + 22.0);
        b.push_str("><title>supply ");
        supply.push_to(b);
        b.push_str(" person-weeks</title></line>\n<text");
        attr_px(b, "x", LABEL + PLOT + 8.0);
        attr_px(b, "y", y + 13.0);
        b.push('>');
        b.push_str(if line == "none" {
            "fits"
        } else {
            "line in triage "
        });
        if line != "none" {
            b.push_str(line);
        }
        b.push_str("</text></g>\n");
    }
    b.push_str("</svg>\n");

    // The numbers.
    b.push_str("<table class=\"numbers\"><thead><tr><th>person-weeks</th>");
    for &k in &skills {
        b.push_str("<th class=\"n\">");
        esc(b, &r.skills[k]);
        b.push_str("</th>");
    }
    b.push_str("</tr></thead><tbody>\n");
    let row = |b: &mut String, label: &str, values: &mut dyn Iterator<Item = Amount>| {
        b.push_str("<tr><th>");
        b.push_str(label);
        b.push_str("</th>");
        for v in values {
            b.push_str("<td class=\"n\">");
            v.push_to(b);
            b.push_str("</td>");
        }
        b.push_str("</tr>\n");
    };
    row(b, "supply", &mut skills.iter().map(|&k| r.manpower[t][k]));
    for l in levels {
        row(
            b,
            &format!("demand ≤{l}"),
            &mut skills.iter().map(|&k| r.demand[t][l.index()][k]),
        );
    }
    row(
        b,
        &format!("balance ≤{}", Triage::ALL[last]),
        // Both at least zero: the difference fits.
        &mut skills
            .iter()
            .map(|&k| Amount::from_units(r.manpower[t][k].units() - r.demand[t][last][k].units())),
    );
    b.push_str("</tbody></table>\n");
    if skills.len() < r.skills.len() {
        let _ = writeln!(
            b,
            "<p class=\"note\">{} with neither supply nor demand in this track left out.</p>",
            plural(r.skills.len() - skills.len(), "skill", "skills")
        );
    }
}

fn svg_open(b: &mut String, class: &str, height: f64, track: &str) {
    let _ = write!(
        b,
        "<svg class=\"chart {class}\" width=\"{WIDTH}\" height=\"{}\" viewBox=\"0 0 {WIDTH} {}\" role=\"img\"",
        height, height
    );
    b.push_str(" aria-label=\"");
    b.push_str(class);
    b.push_str(" chart of track ");
    esc(b, track);
    b.push('"');
    attr(b, "data-track", track);
}

/// A label for an item on a chart: its id and the start of its name.
fn item_label(b: &mut String, r: &Results, row: &TrackRow, y: f64) {
    let item = r.item(row);
    b.push_str("<text");
    attr_px(b, "x", LABEL - 8.0);
    attr_px(b, "y", y);
    b.push_str(" text-anchor=\"end\">");
    let id = r.id(item);
    let text = if id.is_empty() {
        clip(r.name(item), LABEL_CHARS)
    } else {
        clip(&format!("{id} {}", r.name(item)), LABEL_CHARS)
    };
    esc(b, &text);
    b.push_str("<title>");
    esc(b, id);
    b.push(' ');
    esc(b, r.name(item));
    b.push_str("</title></text>");
}

/// `data-id`, `data-rank` of an item.
fn item_attrs(b: &mut String, r: &Results, row: &TrackRow) {
    let item = r.item(row);
    attr(b, "data-id", r.id(item));
    let _ = write!(b, " data-rank=\"{}\"", item.rank);
}

/// Which items are short, in which skill, by how much: one bar per short
/// item in rank order, a part per skill.
fn shortage_chart(b: &mut String, r: &Results, t: usize, rows: &[&TrackRow], short: usize) {
    b.push_str("<h3>Shortages</h3>\n");
    if short == 0 {
        b.push_str("<p>Nothing is short: every item is above the line.</p>\n");
        return;
    }
    let drawn: Vec<&TrackRow> = rows
        .iter()
        .filter(|row| !row.shortage.is_empty())
        .take(SHORT_CAP)
        .copied()
        .collect();
    // Totals per skill over every short item (i128: no overflow).
    let mut totals = vec![0i128; r.skills.len()];
    for row in rows {
        for &(k, a) in r.shortage(row) {
            totals[k as usize] += i128::from(a.units());
        }
    }
    let total = |row: &TrackRow| -> i128 {
        r.shortage(row)
            .iter()
            .map(|&(_, a)| i128::from(a.units()).abs())
            .sum()
    };
    let max = drawn.iter().map(|row| total(row)).max().unwrap_or(1).max(1) as f64;
    b.push_str("<p class=\"legend\">");
    let mut shown = vec![false; r.skills.len()];
    for row in &drawn {
        for &(k, _) in r.shortage(row) {
            shown[k as usize] = true;
        }
    }
    for (k, _) in shown.iter().enumerate().filter(|(_, s)| **s) {
        let _ = write!(b, "<span><i class=\"s{}\"></i>", k % PALETTE);
        esc(b, &r.skills[k]);
        b.push_str("</span>");
    }
    b.push_str("</p>\n");
    let height = TOP + SHORT_ROW * drawn.len() as f64 + 8.0;
    svg_open(b, "shortage", height, &r.tracks[t]);
    let _ = writeln!(b, " data-short-items=\"{short}\">");
    let _ = write!(
        b,
        "<text x=\"{LABEL}\" y=\"14\">short by, person-weeks (longest bar ",
    );
    let mut scratch = String::new();
    if let Ok(m) = i64::try_from(max as i128) {
        Amount::from_units(m).push_to(&mut scratch);
    }
    b.push_str(&scratch);
    b.push_str(")</text>\n");
    for (i, row) in drawn.iter().enumerate() {
        let y = TOP + SHORT_ROW * i as f64;
        b.push_str("<g class=\"item\"");
        item_attrs(b, r, row);
        b.push('>');
        item_label(b, r, row, y + 11.0);
        let mut at = LABEL;
        for &(k, a) in r.shortage(row) {
            let w = PLOT * (a.units() as f64).abs() / max;
            let _ = write!(b, "<rect class=\"short s{}\"", k as usize % PALETTE);
            attr(b, "data-skill", &r.skills[k as usize]);
            b.push_str(" data-short=\"");
            a.push_to(b);
            b.push('"');
            attr_px(b, "x", at);
            attr_px(b, "y", y + 2.0);
            attr_px(b, "width", w);
            b.push_str(" height=\"12\"><title>");
            esc(b, &r.skills[k as usize]);
            b.push_str(" short by ");
            a.push_to(b);
            b.push_str("</title></rect>");
            at += w;
        }
        b.push_str("</g>\n");
    }
    b.push_str("</svg>\n<p class=\"note\">");
    if short > drawn.len() {
        let _ = write!(
            b,
            "The chart shows the first {} of {short} short items in rank order; the table lists all. ",
            drawn.len()
        );
    }
    b.push_str("Short in all: ");
    let mut first = true;
    for (k, &sum) in totals.iter().enumerate() {
        if sum == 0 {
            continue;
        }
        if !first {
            b.push_str(", ");
        }
        first = false;
        esc(b, &r.skills[k]);
        b.push(' ');
        match i64::try_from(sum) {
            Ok(u) => Amount::from_units(u).push_to(b),
            Err(_) => b.push_str("(beyond range)"),
        }
    }
    b.push_str(" person-weeks.</p>\n");
}

/// Each item's dev-complete date on a timeline from start to end, DNF
/// items marked in a column of their own.
fn release_chart(
    b: &mut String,
    r: &Results,
    t: usize,
    rows: &[&TrackRow],
    start: &str,
    end: &str,
) {
    b.push_str("<h3>Release dates</h3>\n");
    if rows.is_empty() {
        b.push_str("<p>No work.</p>\n");
        return;
    }
    let (Ok(s), Ok(e)) = (fields::parse_date(start), fields::parse_date(end)) else {
        b.push_str("<p>No timeline: the plan's start or end date does not read as a date.</p>\n");
        return;
    };
    let span = (e - s).num_days().max(1) as f64;
    let x = |d: NaiveDate| LABEL + PLOT * ((d - s).num_days() as f64).clamp(0.0, span) / span;
    let drawn = &rows[..rows.len().min(RELEASE_CAP)];
    let height = TOP + RELEASE_ROW * drawn.len() as f64 + 8.0;
    svg_open(b, "release", height, &r.tracks[t]);
    b.push_str(" data-start=\"");
    esc(b, start);
    b.push_str("\" data-end=\"");
    esc(b, end);
    b.push_str("\">\n");
    // The first of each month in between, and the start.
    let _ = write!(b, "<text x=\"{LABEL}\" y=\"12\">");
    esc(b, start);
    b.push_str("</text>\n");
    let mut m = NaiveDate::from_ymd_opt(s.year(), s.month(), 1)
        .and_then(|d| d.checked_add_months(chrono::Months::new(1)));
    while let Some(d) = m.filter(|d| *d < e) {
        let _ = write!(b, "<line class=\"grid\"");
        attr_px(b, "x1", x(d));
        attr_px(b, "x2", x(d));
        attr_px(b, "y1", 16.0);
        attr_px(b, "y2", height);
        b.push_str("/>");
        if x(d) - LABEL > 70.0 && LABEL + PLOT - x(d) > 40.0 {
            b.push_str("<text");
            attr_px(b, "x", x(d) + 2.0);
            attr_px(b, "y", 22.0);
            let _ = write!(b, ">{}</text>", d.format("%b"));
        }
        b.push('\n');
        m = d.checked_add_months(chrono::Months::new(1));
    }
    b.push_str("<line class=\"end\"");
    attr_px(b, "x1", x(e));
    attr_px(b, "x2", x(e));
    attr_px(b, "y1", 4.0);
    attr_px(b, "y2", height);
    b.push_str("/><text");
    attr_px(b, "x", x(e) - 4.0);
    attr_px(b, "y", 12.0);
    b.push_str(" text-anchor=\"end\">end ");
    esc(b, end);
    b.push_str("</text>");
    let _ = writeln!(
        b,
        "<text x=\"{DNF_X}\" y=\"12\" text-anchor=\"middle\">DNF</text>"
    );
    let mut date = String::new();
    for (i, row) in drawn.iter().enumerate() {
        let y = TOP + RELEASE_ROW * i as f64;
        let cy = y + RELEASE_ROW / 2.0;
        b.push_str("<g class=\"item\"");
        item_attrs(b, r, row);
        b.push('>');
        item_label(b, r, row, y + 11.0);
        match row.done {
            Some(d) => {
                date.clear();
                push_date(&mut date, Some(d));
                b.push_str("<circle class=\"done\"");
                attr(b, "data-date", &date);
                attr_px(b, "cx", x(d));
                attr_px(b, "cy", cy);
                b.push_str(" r=\"4\"><title>");
                b.push_str(&date);
                b.push_str("</title></circle>");
            }
            None => {
                b.push_str("<path class=\"dnf\" d=\"M");
                px(b, DNF_X - 4.0);
                b.push(' ');
                px(b, cy - 4.0);
                b.push('L');
                px(b, DNF_X + 4.0);
                b.push(' ');
                px(b, cy + 4.0);
                b.push('M');
                px(b, DNF_X - 4.0);
                b.push(' ');
                px(b, cy + 4.0);
                b.push('L');
                px(b, DNF_X + 4.0);
                b.push(' ');
                px(b, cy - 4.0);
                b.push_str("\"><title>DNF</title></path>");
            }
        }
        b.push_str("</g>\n");
    }
    b.push_str("</svg>\n<p class=\"note\">");
    let finished: Vec<NaiveDate> = rows.iter().filter_map(|row| row.done).collect();
    let _ = write!(
        b,
        "{} finish by the end date",
        plural(finished.len(), "item", "items")
    );
    if let Some(last) = finished.iter().max() {
        let _ = write!(b, " (the last on {last})");
    }
    let _ = write!(b, ", {} DNF.", rows.len() - finished.len());
    if rows.len() > drawn.len() {
        let _ = write!(
            b,
            " The chart shows the first {} of {} items in rank order; the table lists all.",
            drawn.len(),
            rows.len()
        );
    }
    b.push_str("</p>\n");
}

/// The track's summary in a stored version, when it has the track.
fn track_in<'a>(v: &'a [TrackSummary], name: &str) -> Option<&'a TrackSummary> {
    v.iter().find(|s| s.track == name)
}

fn value_of(
    s: Option<&TrackSummary>,
    skill: &str,
    pick: impl Fn(&TrackSummary, usize) -> Amount,
) -> Amount {
    s.and_then(|s| s.skills.iter().position(|k| k == skill).map(|k| pick(s, k)))
        .unwrap_or(Amount::ZERO)
}

/// What the trend charts of one track share, so that a replay's chart
/// reads on main's scale: the skills drawn (with supply or demand in any
/// version of either, in first appearance: a skill keeps its colour), the
/// most person-weeks and the most items.
struct TrendScale<'a> {
    skills: Vec<&'a str>,
    max: Amount,
    max_items: usize,
}

fn trend_scale<'a>(trends: &[&'a Trend], name: &str, level: usize) -> TrendScale<'a> {
    let per: Vec<&TrackSummary> = trends
        .iter()
        .flat_map(|t| t.versions.iter().filter_map(|v| track_in(&v.tracks, name)))
        .collect();
    let mut skills: Vec<&str> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for s in &per {
        for (k, skill) in s.skills.iter().enumerate() {
            let any = s.supply.get(k).is_some_and(|a| a.is_positive())
                || s.demand[level].get(k).is_some_and(|a| a.is_positive());
            if any && seen.insert(skill.as_str()) {
                skills.push(skill);
            }
        }
    }
    let supply = |s: &TrackSummary, k: usize| s.supply.get(k).copied().unwrap_or(Amount::ZERO);
    let demand =
        |s: &TrackSummary, k: usize| s.demand[level].get(k).copied().unwrap_or(Amount::ZERO);
    let max = skills
        .iter()
        .flat_map(|k| {
            per.iter()
                .map(|s| value_of(Some(*s), k, supply).max(value_of(Some(*s), k, demand)))
        })
        .max()
        .unwrap_or(Amount::ZERO);
    let max_items = per
        .iter()
        .map(|s| s.items[..=level].iter().sum::<usize>())
        .max()
        .unwrap_or(0);
    TrendScale {
        skills,
        max,
        max_items,
    }
}

/// Supply, cumulative demand and the items above the line across the
/// stored versions, oldest to newest: the burndown. A version without the
/// track or a skill counts it as zero. With `replay`, the chart of that
/// replay's versions (`qsnap replay`), drawn after main's on its scale.
fn trend_chart(
    b: &mut String,
    r: &Results,
    trend: &Trend,
    t: usize,
    level: usize,
    replay: Option<&str>,
    shared: &TrendScale,
) {
    match replay {
        None => b.push_str("<h3>Trend across stored versions</h3>\n"),
        Some(name) => {
            b.push_str("<h3>Beside it: replay ");
            esc(b, name);
            b.push_str("</h3>\n<p class=\"note\">The versions of replay <code>");
            esc(b, name);
            b.push_str(
                "</code> (<code>qsnap replay</code>: the stored inputs run again through \
                 another command), on the same scale as main's.</p>\n",
            );
        }
    }
    let n = trend.versions.len();
    if n == 0 {
        b.push_str(match replay {
            None => "<p>The store holds no readable version of the results.</p>\n",
            Some(_) => "<p>The replay holds no readable version of the results.</p>\n",
        });
        return;
    }
    let name = &r.tracks[t];
    let per: Vec<Option<&TrackSummary>> = trend
        .versions
        .iter()
        .map(|v| track_in(&v.tracks, name))
        .collect();
    let skills = &shared.skills;
    let supply = |s: &TrackSummary, k: usize| s.supply.get(k).copied().unwrap_or(Amount::ZERO);
    let demand =
        |s: &TrackSummary, k: usize| s.demand[level].get(k).copied().unwrap_or(Amount::ZERO);
    let count = |a: &[usize; 5]| a[..=level].iter().sum::<usize>();
    let max = shared.max;
    let scale = if max.is_positive() { max.to_f64() } else { 1.0 };
    let max_items = shared.max_items.max(1) as f64;
    let xi = |i: usize| {
        if n == 1 {
            LABEL + PLOT / 2.0
        } else {
            LABEL + PLOT * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: Amount| TOP + TREND_H * (1.0 - v.to_f64() / scale);
    let items_top = TOP + TREND_H + 30.0;
    let height = items_top + ITEMS_H + 24.0;

    b.push_str("<p class=\"legend\">");
    for (k, skill) in skills.iter().enumerate() {
        let _ = write!(b, "<span><i class=\"s{}\"></i>", k % PALETTE);
        esc(b, skill);
        b.push_str("</span>");
    }
    let _ = writeln!(
        b,
        "solid: supply, dashed: demand of triage ≤{}; bars: items above the line of all items</p>",
        Triage::ALL[level]
    );
    match replay {
        None => svg_open(b, "trend", height, name),
        Some(replay) => {
            svg_open(b, "trend replay", height, name);
            attr(b, "data-replay", replay);
        }
    }
    let _ = write!(b, " data-versions=\"{n}\" data-max=\"");
    max.push_to(b);
    b.push_str("\">\n");
    let _ = write!(
        b,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">",
        LABEL - 8.0,
        TOP + 4.0
    );
    max.push_to(b);
    let _ = writeln!(
        b,
        "</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">0</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">person-weeks</text>",
        LABEL - 8.0,
        TOP + TREND_H,
        LABEL - 8.0,
        TOP + TREND_H / 2.0
    );
    let _ = writeln!(
        b,
        "<line class=\"axis\" x1=\"{LABEL}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>",
        LABEL + PLOT,
        TOP + TREND_H,
        TOP + TREND_H
    );
    for (k, skill) in skills.iter().enumerate() {
        for (class, pick) in [
            ("supply", &supply as &dyn Fn(&TrackSummary, usize) -> Amount),
            ("demand", &demand),
        ] {
            let _ = write!(b, "<polyline class=\"{class} s{}\"", k % PALETTE);
            attr(b, "data-skill", skill);
            b.push_str(" data-values=\"");
            for (i, s) in per.iter().enumerate() {
                if i > 0 {
                    b.push(' ');
                }
                value_of(*s, skill, pick).push_to(b);
            }
            b.push_str("\" points=\"");
            for (i, s) in per.iter().enumerate() {
                if i > 0 {
                    b.push(' ');
                }
                px(b, xi(i));
                b.push(',');
                px(b, y(value_of(*s, skill, pick)));
            }
            b.push_str("\"><title>");
            esc(b, skill);
            let _ = writeln!(b, " {class}</title></polyline>");
            for (i, s) in per.iter().enumerate() {
                let _ = write!(b, "<circle class=\"s{}\"", k % PALETTE);
                attr_px(b, "cx", xi(i));
                attr_px(b, "cy", y(value_of(*s, skill, pick)));
                b.push_str(" r=\"2.5\"/>");
            }
            b.push('\n');
        }
    }
    // Items above the line, over all items, per version.
    let bar = if n == 1 {
        24.0
    } else {
        (PLOT / (n - 1) as f64 * 0.6).clamp(2.0, 24.0)
    };
    let _ = write!(
        b,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">items</text>",
        LABEL - 8.0,
        items_top + ITEMS_H / 2.0
    );
    let hy = |c: usize| ITEMS_H * c as f64 / max_items;
    let label_every = n.div_ceil(8).max(1);
    for (i, (v, s)) in trend.versions.iter().zip(&per).enumerate() {
        let (items, above) = s.map_or((0, 0), |s| (count(&s.items), count(&s.above)));
        b.push_str("<g class=\"version\"");
        attr(b, "data-commit", &v.commit);
        let _ = write!(b, " data-above=\"{above}\" data-items=\"{items}\">");
        for (class, c) in [("items", items), ("above", above)] {
            let _ = write!(b, "<rect class=\"{class}\"");
            attr_px(b, "x", xi(i) - bar / 2.0);
            attr_px(b, "y", items_top + ITEMS_H - hy(c));
            attr_px(b, "width", bar);
            attr_px(b, "height", hy(c));
            b.push_str("/>");
        }
        b.push_str("<title>");
        esc(b, &v.commit[..v.commit.len().min(12)]);
        let _ = write!(
            b,
            " {}: {above} of {items} items above the line</title>",
            show_time(v.time)
        );
        if i % label_every == 0 || i + 1 == n {
            b.push_str("<text");
            attr_px(b, "x", xi(i));
            attr_px(b, "y", items_top + ITEMS_H + 16.0);
            b.push_str(" text-anchor=\"middle\">");
            esc(b, &show_time(v.time)[..10.min(show_time(v.time).len())]);
            b.push_str("</text>");
        }
        b.push_str("</g>\n");
    }
    b.push_str("</svg>\n");

    // The numbers.
    b.push_str("<details><summary>The numbers per version</summary>\n<table class=\"trend\"><thead><tr><th>commit</th><th>time</th><th>message</th><th class=\"n\">above the line</th>");
    for skill in skills {
        b.push_str("<th class=\"n\">");
        esc(b, skill);
        b.push_str(" supply / demand</th>");
    }
    b.push_str("</tr></thead><tbody>\n");
    for (v, s) in trend.versions.iter().zip(&per) {
        b.push_str("<tr><td><code>");
        esc(b, &v.commit[..v.commit.len().min(12)]);
        b.push_str("</code></td><td>");
        esc(b, &show_time(v.time));
        b.push_str("</td><td>");
        esc(b, &v.message);
        let (items, above) = s.map_or((0, 0), |s| (count(&s.items), count(&s.above)));
        let _ = write!(b, "</td><td class=\"n\">{above} of {items}</td>");
        for skill in skills {
            b.push_str("<td class=\"n\">");
            value_of(*s, skill, supply).push_to(b);
            b.push_str(" / ");
            value_of(*s, skill, demand).push_to(b);
            b.push_str("</td>");
        }
        b.push_str("</tr>\n");
    }
    b.push_str("</tbody></table></details>\n");
    if trend.stored > n + trend.skipped.len() {
        let _ = writeln!(
            b,
            "<p class=\"note\">The newest {} of {} stored versions.</p>",
            n + trend.skipped.len(),
            trend.stored
        );
    }
}

/// How many rows each list gets when the lists (of `lens` rows) share
/// `budget` rows: all of a list when it fits, else an even share of what
/// the shorter lists leave.
fn table_shares(lens: &[usize], budget: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..lens.len()).collect();
    order.sort_by_key(|&i| lens[i]);
    let mut shares = vec![0; lens.len()];
    let mut left = budget;
    for (k, &i) in order.iter().enumerate() {
        let share = lens[i].min(left / (lens.len() - k));
        shares[i] = share;
        left -= share;
    }
    shares
}

/// The ranked work list of a track, its first `share` rows (every row
/// unless the page's budget is spent); short and DNF rows marked.
fn work_table(
    r: &Results,
    rows: &[&TrackRow],
    share: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    out.write_all(b"<h3>Ranked work</h3>\n")?;
    if rows.is_empty() {
        return out.write_all(b"<p>No work.</p>\n");
    }
    if share < rows.len() {
        writeln!(
            out,
            "<p class=\"note\">The first {share} of {} items in rank order: the report lists at most {TABLE_ROWS} rows in all. Every item: <code>qplan -f csv</code>.</p>",
            rows.len()
        )?;
    }
    let rows = &rows[..share.min(rows.len())];
    out.write_all(b"<table class=\"work\"><thead><tr><th>rank</th><th>triage</th><th>id</th><th>name</th><th>track</th><th>estimate</th><th>short</th><th>done</th></tr></thead>\n<tbody>\n")?;
    in_chunks(rows, out, |_, chunk, buf| {
        let (mut line, mut scratch) = (String::new(), String::new());
        for row in chunk {
            line.clear();
            let item = r.item(row);
            let short = !row.shortage.is_empty();
            line.push_str(match (short, row.done.is_none()) {
                (false, false) => "<tr><td>",
                (true, false) => "<tr class=\"short\"><td>",
                (false, true) => "<tr class=\"dnf\"><td>",
                (true, true) => "<tr class=\"short dnf\"><td>",
            });
            line.push_str(itoa::Buffer::new().format(item.rank));
            line.push_str("<td>");
            line.push_str(item.triage.as_str());
            line.push_str("<td>");
            esc(&mut line, r.id(item));
            line.push_str("<td>");
            esc(&mut line, r.name(item));
            line.push_str("<td>");
            esc(&mut line, r.track_name(item.track));
            line.push_str("<td>");
            push_amounts(&mut line, &mut scratch, r, r.estimate(item).unwrap_or(&[]));
            line.push_str("<td>");
            push_amounts(&mut line, &mut scratch, r, r.shortage(row));
            line.push_str("<td>");
            push_date(&mut line, row.done);
            line.push_str("</tr>\n");
            buf.extend_from_slice(line.as_bytes());
        }
        Ok(())
    })?;
    out.write_all(b"</tbody></table>\n")
}

fn provenance(b: &mut String, extras: &Extras) {
    b.push_str("\n<section id=\"provenance\">\n<h2>Provenance</h2>\n");
    if extras.provenance.is_empty() {
        b.push_str("<p>The results carry no provenance: they did not come from a snapshot store (<code>qsnap get qplan results | qplan -f html</code> adds it).</p>\n</section>\n");
        return;
    }
    b.push_str("<table class=\"provenance\"><thead><tr><th>resource</th><th>commit</th><th>time</th><th>message</th></tr></thead><tbody>\n");
    for p in &extras.provenance {
        b.push_str("<tr><td>");
        esc(b, &p.resource);
        b.push_str("</td><td><code>");
        esc(b, &p.commit);
        b.push_str("</code></td><td>");
        esc(
            b,
            p.time.as_deref().unwrap_or(if extras.store {
                "(not in this store)"
            } else {
                ""
            }),
        );
        b.push_str("</td><td>");
        esc(b, p.message.as_deref().unwrap_or(""));
        b.push_str("</td></tr>\n");
    }
    b.push_str("</tbody></table>\n");
    if !extras.store {
        b.push_str(
            "<p class=\"note\">Times and messages: render with <code>--store DIR</code>.</p>\n",
        );
    }
    b.push_str("</section>\n");
}

fn about(b: &mut String, extras: &Extras) {
    let _ = write!(
        b,
        "\n<section id=\"about\">\n<h2>About this report</h2>\n<p class=\"note\">Written by qplan. \
         Charts are drawn from the same numbers as the tables. Bounds that keep the page readable and its size \
         in proportion to the results: the shortage chart draws the first {SHORT_CAP} short items of a track in rank order, \
         the release chart the first {RELEASE_CAP} items (the rest are counted under it); skills with neither supply nor \
         demand in a track are left out of its charts; the work tables list every item up to {TABLE_ROWS} rows in all, \
         beyond which each track lists its first items in rank order. "
    );
    match extras.trend {
        Some(t) => {
            let _ = write!(
                b,
                "The trend reads the newest {} stored versions at most ({} stored",
                super::trend::MAX_VERSIONS,
                t.stored
            );
            if !t.skipped.is_empty() {
                b.push_str("; unreadable and left out: ");
                for (i, (commit, why)) in t.skipped.iter().enumerate() {
                    if i > 0 {
                        b.push_str("; ");
                    }
                    esc(b, &commit[..commit.len().min(12)]);
                    b.push_str(": ");
                    esc(b, why);
                }
            }
            b.push_str(").");
            if let Some((name, replay)) = &t.replay {
                b.push_str(" Replay <code>");
                esc(b, name);
                let _ = write!(
                    b,
                    "</code> is read within the same bounds ({} stored",
                    replay.stored
                );
                for (i, (commit, why)) in replay.skipped.iter().enumerate() {
                    b.push_str(if i == 0 {
                        "; unreadable and left out: "
                    } else {
                        "; "
                    });
                    esc(b, &commit[..commit.len().min(12)]);
                    b.push_str(": ");
                    esc(b, why);
                }
                b.push_str(").");
            }
        }
        None => b.push_str(
            "No trend: <code>qplan -f html --store DIR</code> reads the stored versions of the results.",
        ),
    }
    b.push_str("</p>\n</section>\n");
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::stream::Reader;
    use crate::{plan::compute, rules::Loaded};

    /// The fixture `small.in` (its results were checked by hand against
    /// SPEC section 4, see fixtures/qplan/small.expected).
    const SMALL: &str = "=====qplan params v1\n\t2013-10-07\t2013-10-18\tApps:Web\n\
        =====qplan holidays v1\n\t2013-10-14\n=====qplan staff v1\n\
        \tp1\tAlice\tMobile\tTenor\tApps\t2013-10-09\n\tp2\tBob\tMobile\tTenor\tApps\t\n\
        \tp3\tCarol\tMobile\tBass\tWeb\t\n=====qplan work v1\n\
        \tW1\t1\tLogin\tApps:1,Web:0.5\t1\tTenor\n\tW2\t2\tSearch\tApps:L\t2\tTenor\n\
        \tW3\t2\tProfile\tWeb:M\t\tBass\n\tW4\t3\tDocs\t\t3\tBass\n=====end\n";

    fn results(stream: &str) -> Results {
        match crate::rules::read(&mut Reader::new(stream.as_bytes()), &mut crate::rules::Stop) {
            Ok(Some(Loaded::Input(input))) => compute(*input).unwrap(),
            _ => panic!("not a plan"),
        }
    }

    fn page(r: &Results, view: View) -> String {
        let mut out = Vec::new();
        html(r, view, &Extras::default(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// The elements `<tag …>` of a page whose class attribute starts with
    /// `class`, as their attributes.
    fn elements(page: &str, tag: &str, class: &str) -> Vec<HashMap<String, String>> {
        let open = regex::Regex::new(&format!(r#"<{tag}((?:\s+[\w:-]+="[^"]*")*)\s*/?>"#)).unwrap();
        let attr = regex::Regex::new(r#"([\w:-]+)="([^"]*)""#).unwrap();
        open.captures_iter(page)
            .map(|c| {
                attr.captures_iter(&c[1])
                    .map(|a| (a[1].to_owned(), a[2].to_owned()))
                    .collect::<HashMap<_, _>>()
            })
            .filter(|a| a.get("class").is_some_and(|c| c.starts_with(class)))
            .collect()
    }

    /// The part of the page of track section `t`.
    fn section(page: &str, t: usize) -> &str {
        let start = page.find(&format!("id=\"track-{t}\"")).unwrap();
        let end = page[start..].find("</section>").unwrap();
        &page[start..start + end]
    }

    fn get(e: &HashMap<String, String>, k: &str) -> String {
        e.get(k).cloned().unwrap_or_default()
    }

    #[test]
    fn supply_chart_draws_the_numbers_of_the_results() {
        let p = page(&results(SMALL), View::default());
        let all = section(&p, 0);
        // All: supply Apps 3.4, Web 1.8; cumulative demand Apps 1 1 4 4 4,
        // Web 0.5 0.5 0.5 0.5 2.5. The widest is Apps' 4 person-weeks, so
        // x(v) = 160 + 480·v/4 = 160 + 120·v.
        let svg = elements(all, "svg", "chart supply");
        assert_eq!(get(&svg[0], "data-max"), "4");
        let skills = elements(all, "g", "skill");
        assert_eq!(skills.len(), 2);
        assert_eq!(get(&skills[0], "data-skill"), "Apps");
        assert_eq!(get(&skills[0], "data-supply"), "3.4");
        assert_eq!(get(&skills[0], "data-demand"), "1 1 4 4 4");
        // 4 (triage ≤2) is the first demand above 3.4.
        assert_eq!(get(&skills[0], "data-line"), "2");
        assert_eq!(get(&skills[1], "data-demand"), "0.5 0.5 0.5 0.5 2.5");
        assert_eq!(get(&skills[1], "data-line"), "3");
        let bars: Vec<[String; 4]> = elements(all, "rect", "d t")
            .iter()
            .map(|e| {
                [
                    get(e, "data-triage"),
                    get(e, "data-cum"),
                    get(e, "x"),
                    get(e, "width"),
                ]
            })
            .collect();
        // Only the levels that add demand have a part: Apps 0→1 (triage
        // 1) and 1→4 (triage 2); Web 0→0.5 (1) and 0.5→2.5 (3).
        let want = [
            ["1", "1", "160", "120"],
            ["2", "4", "280", "360"],
            ["1", "0.5", "160", "60"],
            ["3", "2.5", "220", "240"],
        ];
        assert_eq!(bars, want);
        // Supply lines: 160 + 120·3.4 = 568, 160 + 120·1.8 = 376.
        let lines: Vec<String> = elements(all, "line", "supply")
            .iter()
            .map(|e| get(e, "x1").to_owned())
            .collect();
        assert_eq!(lines, ["568", "376"]);
        // Bass has Web only (1.8 supply, 2 demand at triage 3): Apps, with
        // neither, is left out and said so.
        let bass = section(&p, 1);
        let skills = elements(bass, "g", "skill");
        assert_eq!(skills.len(), 1);
        assert_eq!(get(&skills[0], "data-skill"), "Web");
        assert!(bass.contains("1 skill with neither supply nor demand in this track left out"));
    }

    #[test]
    fn shortage_chart_shows_who_is_short_in_what_by_how_much() {
        let p = page(&results(SMALL), View::default());
        let all = section(&p, 0);
        // All: W2 short of Apps by 0.6, W3 of Web by 0.7; the longest bar
        // (0.7) is 480 wide, W2's is 480·0.6/0.7 = 411.43.
        let items = elements(all, "g", "item");
        let short = elements(all, "rect", "short");
        assert_eq!(get(&items[0], "data-id"), "W2");
        assert_eq!(get(&items[1], "data-id"), "W3");
        let got: Vec<[String; 4]> = short
            .iter()
            .map(|e| {
                [
                    get(e, "data-skill"),
                    get(e, "data-short"),
                    get(e, "x"),
                    get(e, "width"),
                ]
            })
            .collect();
        assert_eq!(
            got,
            [
                ["Apps", "-0.6", "160", "411.4"],
                ["Web", "-0.7", "160", "480"]
            ]
        );
        assert!(all.contains("Short in all: Apps -0.6, Web -0.7 person-weeks."));
        // Tenor: W1 short of Web by 0.5 (no Web people there), W2 of Apps.
        let tenor = section(&p, 2);
        let got: Vec<String> = elements(tenor, "rect", "short")
            .iter()
            .map(|e| get(e, "data-short"))
            .collect();
        assert_eq!(got, ["-0.5", "-0.6"]);
    }

    #[test]
    fn release_chart_places_dates_on_the_timeline_and_marks_dnf() {
        let p = page(&results(SMALL), View::default());
        let all = section(&p, 0);
        // 11 days from start to end: x(d) = 160 + 480·days/11. W1 is done
        // on 2013-10-11, day 4: 334.5; the end line at 640.
        let done = elements(all, "circle", "done");
        assert_eq!(done.len(), 1);
        assert_eq!(get(&done[0], "data-date"), "2013-10-11");
        assert_eq!(get(&done[0], "cx"), "334.5");
        // Row 0: cy = 24 + 7.
        assert_eq!(get(&done[0], "cy"), "31");
        assert_eq!(get(&elements(all, "line", "end")[0], "x1"), "640");
        // W2, W3, W4 do not finish: crosses in the DNF column (x 680) on
        // rows 1 to 3.
        let dnf = elements(all, "path", "dnf");
        assert_eq!(dnf.len(), 3);
        assert_eq!(get(&dnf[0], "d"), "M676 41L684 49M676 49L684 41");
        assert!(all.contains("1 item finish by the end date (the last on 2013-10-11), 3 DNF."));
    }

    #[test]
    fn work_tables_list_every_row_and_the_filter_names_every_track() {
        let p = page(&results(SMALL), View::default());
        // 4 items in All, 2 in Bass, 2 in Tenor.
        for (t, n) in [(0, 4), (1, 2), (2, 2)] {
            let s = section(&p, t);
            let body = &s[s.find("<table class=\"work\">").unwrap()..]
                .split_once("<tbody>")
                .unwrap()
                .1;
            assert_eq!(body.matches("<tr").count(), n, "track {t}");
        }
        assert!(p.contains("<tr class=\"short dnf\"><td>2<td>2<td>W2<td>Search<td>Tenor<td>Apps:3<td>Apps:-0.6<td>DNF</tr>"));
        assert!(p.contains("<option value=\"1\">Bass</option>"));
        // Items counted once (All lists each), not once per list.
        assert!(p.contains("3 tracks, 2 skills, 4 work items."));
        // One script, allowed by its hash; one style, likewise.
        assert_eq!(p.matches("<script").count(), 1);
        assert!(p.contains(&format!("script-src {}", csp_hash(SCRIPT))));
        assert!(p.contains("default-src 'none'"));
        // Narrowed like the text format.
        let tenor = page(
            &results(SMALL),
            View {
                track: Some(2),
                triage: Some(Triage::ALL[0]),
            },
        );
        assert_eq!(tenor.matches("<section class=\"track\"").count(), 1);
        assert!(tenor.contains("data-demand=\"1\""));
        assert!(!tenor.contains(">Search<"));
    }

    #[test]
    fn every_string_from_the_data_is_escaped() {
        let evil = "<script>alert(1)</script>";
        let r = results(&format!(
            "=====qplan params v1\n\t2013-10-07\t2013-10-18\tA&p<s\n=====qplan holidays v1\n\
             =====qplan staff v1\n\tp1\t{evil}\tM\tT\"><img src=x>\tA&p<s\t\n\
             =====qplan work v1\n\t'><b>\t1\t{evil}\"'\u{1}\tA&p<s:9\t1\tT\"><img src=x>\n=====end\n"
        ));
        let p = page(&r, View::default());
        assert_eq!(
            p.matches("<script").count(),
            1,
            "only the page's own script"
        );
        assert!(!p.contains("<img"));
        assert!(!p.contains("<b>"));
        assert!(!p.contains("A&p<s"));
        assert!(p.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;\u{FFFD}"));
        assert!(p.contains("data-skill=\"A&amp;p&lt;s\""));
        assert!(p.contains("data-track=\"T&quot;&gt;&lt;img src=x&gt;\""));
        assert!(p.contains("data-id=\"&#39;&gt;&lt;b&gt;\""));
    }

    #[test]
    fn charts_are_bounded_and_say_so_the_table_is_not() {
        // 1,000 items of one track, each 1 person-week of Apps, and one
        // person for ten days: 2 weeks of supply, so 998 items are short.
        let mut s = String::from(
            "=====qplan params v1\n\t2013-10-07\t2013-10-18\tApps\n=====qplan holidays v1\n\
             =====qplan staff v1\n\tp\tP\tM\tT\tApps\t\n=====qplan work v1\n",
        );
        for i in 0..1000 {
            s.push_str(&format!("\tW{i}\t{i}\tItem {i}\tApps:1\t1\tT\n"));
        }
        s.push_str("=====end\n");
        let p = page(&results(&s), View::default());
        let t = section(&p, 1);
        assert_eq!(elements(t, "rect", "short").len(), SHORT_CAP);
        assert_eq!(
            elements(t, "circle", "done").len() + elements(t, "path", "dnf").len(),
            RELEASE_CAP
        );
        assert!(t.contains("The chart shows the first 100 of 998 short items in rank order"));
        assert!(t.contains("The chart shows the first 200 of 1000 items in rank order"));
        let body = &t[t.find("<table class=\"work\">").unwrap()..]
            .split_once("<tbody>")
            .unwrap()
            .1;
        assert_eq!(body.matches("<tr").count(), 1000);
        // The charts' part of the page does not grow with the items: two
        // tracks of 1,000 rows, well under 1 KiB a row all told.
        assert!(p.len() < 1000 * 2 * 1024, "{} bytes", p.len());
    }

    #[test]
    fn tables_share_the_row_budget_evenly_beyond_what_short_lists_take() {
        assert_eq!(table_shares(&[10, 1000, 1000], 610), [10, 300, 300]);
        assert_eq!(table_shares(&[1000, 10, 1000], 2010), [1000, 10, 1000]);
        assert_eq!(table_shares(&[5, 7], 3), [1, 2]);
        assert_eq!(table_shares(&[], 3), Vec::<usize>::new());
        // A million items in All and 50 tracks of 20,000: 1,960 each.
        let mut lens = vec![1_000_000];
        lens.extend([20_000; 50]);
        let shares = table_shares(&lens, TABLE_ROWS);
        assert!(shares.iter().all(|&s| s == 1960 || s == 1961), "{shares:?}");
        assert!(shares.iter().sum::<usize>() <= TABLE_ROWS);
    }

    #[test]
    fn coordinates_and_base64_are_exact() {
        let mut b = String::new();
        for x in [0.0, 411.428_57, 334.545, -0.04, -2.5, 680.0] {
            px(&mut b, x);
            b.push(' ');
        }
        assert_eq!(b, "0 411.4 334.5 0 -2.5 680 ");
        assert_eq!(base64(b"any carnal pleas"), "YW55IGNhcm5hbCBwbGVhcw==");
        assert_eq!(base64(b"any carnal pleasu"), "YW55IGNhcm5hbCBwbGVhc3U=");
        assert_eq!(base64(b"any carnal pleasur"), "YW55IGNhcm5hbCBwbGVhc3Vy");
    }
}
