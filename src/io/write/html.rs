//! The HTML pieces every page shares (`report.html`, and `compare.html` of `quartier
//! compare`): German number formats (1.234,5), escaping, and the page's head and style.

/// German number format with `decimals` decimals: 12345.6 → "12.345,6".
pub fn de(value: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w.to_string(), Some(f.to_string())),
        None => (text.clone(), None),
    };
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(c);
    }
    let sign = if value < 0.0 && text.chars().any(|c| c != '0' && c != '.') {
        "−"
    } else {
        ""
    };
    match fraction {
        Some(f) => format!("{sign}{grouped},{f}"),
        None => format!("{sign}{grouped}"),
    }
}

pub(super) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page's head and style, shared with `compare.html`.
pub fn page_head(title: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><title>{title} – quartier</title>
<style>
body {{ font-family: "DejaVu Sans", Arial, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }}
h1 {{ font-size: 1.5em; }} h2 {{ font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }}
.figures {{ display: flex; flex-wrap: wrap; gap: 12px; }}
.figure {{ background: #f3f6fa; border-radius: 6px; padding: 10px 14px; min-width: 150px; }}
.figure b {{ display: block; font-size: 1.45em; }}
.maps {{ display: flex; gap: 12px; }}
table {{ border-collapse: collapse; font-size: 0.9em; width: 100%; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 3px 6px; text-align: right; }}
th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) {{ text-align: left; }}
.note {{ color: #555; font-size: 0.9em; }}
</style></head><body>
"#,
        title = escape(title)
    )
}

pub fn escape_html(text: &str) -> String {
    escape(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_numbers() {
        assert_eq!(de(1234567.891, 1), "1.234.567,9");
        assert_eq!(de(0.1234, 3), "0,123");
        assert_eq!(de(-12.5, 1), "−12,5");
        assert_eq!(de(999.0, 0), "999");
        assert_eq!(de(-0.01, 1), "0,0");
    }
}
