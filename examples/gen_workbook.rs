//! Writes a work sheet of ROWS items as a workbook and as its CSV twin, for
//! timing qpull on workbooks against the same data as CSV (not measured
//! yet): `gen_workbook ROWS OUT.xlsx OUT.csv`. Key and Summary are text, Rank and
//! Triage numbers, Due a date cell (shown as 28 Nov 2013); the CSV holds
//! what qpull should write for the sheet. Same arguments, same bytes.

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [rows, xlsx, csv] = args.as_slice() else {
        return Err("usage: gen_workbook ROWS OUT.xlsx OUT.csv".into());
    };
    let rows: u32 = rows.parse()?;
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Work")?;
    let shown = Format::new().set_num_format("d mmm yyyy");
    let mut text = String::from("Key,Rank,Summary,Estimate,Triage,Track,Due\n");
    for (c, h) in [
        "Key", "Rank", "Summary", "Estimate", "Triage", "Track", "Due",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(0, c as u16, *h)?;
    }
    let tracks = ["Tenor", "Bass", "Alto"];
    let triages = [1.0, 1.5, 2.0, 2.5, 3.0];
    for i in 0..rows {
        let r = i + 1;
        let key = format!("W-{i:07}");
        let summary = format!("Work item number {i} of the big sheet");
        let triage = triages[(i % 5) as usize];
        let track = tracks[(i % 3) as usize];
        // Days from 2013-10-07 on, a year round.
        let day = (i % 365) as u16;
        let due = ExcelDateTime::from_ymd(2013, 10, 7)?;
        let due = ExcelDateTime::from_serial_datetime(due.to_excel() + f64::from(day))?;
        sheet.write_string(r, 0, &key)?;
        sheet.write_number(r, 1, f64::from(i))?;
        sheet.write_string(r, 2, &summary)?;
        sheet.write_string(r, 3, "Apps:1,Web:2S")?;
        sheet.write_number(r, 4, triage)?;
        sheet.write_string(r, 5, track)?;
        sheet.write_datetime_with_format(r, 6, &due, &shown)?;
        let date = chrono::NaiveDate::from_ymd_opt(2013, 10, 7)
            .and_then(|d| d.checked_add_days(chrono::Days::new(u64::from(day))))
            .ok_or("a date")?;
        text.push_str(&format!(
            "{key},{i},{summary},\"Apps:1,Web:2S\",{triage},{track},{}\n",
            date.format("%Y-%m-%d")
        ));
    }
    book.save(xlsx)?;
    std::fs::write(csv, text)?;
    Ok(())
}
