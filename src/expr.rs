//! Expressions over district properties: the fair-share key (`weight`) and the conditions of
//! district rules (`where`).
//!
//! The language is the one planners know from QGIS and spreadsheets: numbers, property
//! names (in backticks when they hold spaces or other characters: `` `SGB II-Quote` ``),
//! `+ - * /`, parentheses, comparisons (`< <= > >= = == != <>`), `and`, `or`, `not`,
//! `min(…)`, `max(…)` and `if(cond, a, b)`.
//!
//! Parsing and evaluation are the `evalexpr` crate's; this module only translates the
//! planner's spelling into evalexpr's (`and` → `&&`, `=` → `==`, backtick names → plain
//! identifiers, every number a float so that `1/2` is 0.5 and not integer division), refuses
//! whatever is not in the language above (assignments, strings, other functions), and maps
//! the identifiers back to property names for messages.

use evalexpr::{ContextWithMutableVariables, DefaultNumericTypes, HashMapContext, Node, Value};

/// A parsed expression.
#[derive(Debug, Clone)]
pub struct Expression {
    /// As the planner wrote it.
    pub text: String,
    tree: Node<DefaultNumericTypes>,
    /// The property names used, in first-use order, with the identifier evalexpr sees.
    names: Vec<(String, String)>,
}

/// Two expressions are the same when written the same.
impl PartialEq for Expression {
    fn eq(&self, other: &Expression) -> bool {
        self.text == other.text
    }
}

/// The functions of the language.
const FUNCTIONS: [&str; 3] = ["min", "max", "if"];

/// What an expression gives for one district.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    Number(f64),
    Truth(bool),
}

impl Expression {
    /// Parses `text`; the error says what is wrong in words.
    pub fn parse(text: &str) -> Result<Expression, String> {
        let (translated, names) = translate(text)?;
        if translated.trim().is_empty() {
            return Err("the expression is empty".into());
        }
        let tree = evalexpr::build_operator_tree::<DefaultNumericTypes>(&translated)
            .map_err(|e| format!("cannot read the expression: {}", describe(&e.to_string())))?;
        for function in tree.iter_function_identifiers() {
            if !FUNCTIONS.contains(&function) {
                return Err(format!(
                    "unknown function \"{function}\"; the functions are min, max and if"
                ));
            }
        }
        let expression = Expression {
            text: text.to_string(),
            tree,
            names,
        };
        // evalexpr finds a missing operand only when evaluating: try it once.
        if let Err(e) = expression.eval(|_| Ok(1.0)) {
            return Err(e.replace(
                "cannot evaluate the expression",
                "cannot read the expression",
            ));
        }
        Ok(expression)
    }

    /// The property names the expression reads, each once.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|(name, _)| name.as_str())
    }

    /// Evaluates with the property values `value(name)`; an `Err` of `value` is passed on.
    pub fn eval(&self, value: impl Fn(&str) -> Result<f64, String>) -> Result<Outcome, String> {
        let mut context = HashMapContext::<DefaultNumericTypes>::new();
        for (name, identifier) in &self.names {
            let number = value(name)?;
            context
                .set_value(identifier.clone(), Value::Float(number))
                .map_err(|e| e.to_string())?;
        }
        match self.tree.eval_with_context(&context) {
            Ok(Value::Float(x)) => Ok(Outcome::Number(x)),
            Ok(Value::Int(n)) => Ok(Outcome::Number(n as f64)),
            Ok(Value::Boolean(b)) => Ok(Outcome::Truth(b)),
            Ok(other) => Err(format!(
                "the expression gives {other}, not a number or true/false"
            )),
            Err(e) => Err(format!(
                "cannot evaluate the expression: {}",
                describe(&e.to_string())
            )),
        }
    }

    /// Evaluates to a number.
    pub fn number(&self, value: impl Fn(&str) -> Result<f64, String>) -> Result<f64, String> {
        match self.eval(value)? {
            Outcome::Number(x) if x.is_finite() => Ok(x),
            Outcome::Number(_) => {
                Err("the expression gives no finite number (a division by zero?)".into())
            }
            Outcome::Truth(b) => Err(format!(
                "the expression gives {b}, a condition; a number was expected"
            )),
        }
    }

    /// Evaluates to true or false.
    pub fn truth(&self, value: impl Fn(&str) -> Result<f64, String>) -> Result<bool, String> {
        match self.eval(value)? {
            Outcome::Truth(b) => Ok(b),
            Outcome::Number(x) => Err(format!(
                "the condition gives the number {x}, not true or false (compare with < > = …)"
            )),
        }
    }
}

/// Makes evalexpr's words about a translated expression fit the planner's text.
fn describe(message: &str) -> String {
    message
        .replace("&&", "and")
        .replace("||", "or")
        .trim()
        .to_string()
}

fn identifier_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The planner's spelling → evalexpr's, and the property names with their identifiers.
fn translate(text: &str) -> Result<(String, Vec<(String, String)>), String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 16);
    let mut names: Vec<(String, String)> = Vec::new();
    let use_name = |name: String, names: &mut Vec<(String, String)>| -> String {
        if let Some((_, id)) = names.iter().find(|(n, _)| *n == name) {
            return id.clone();
        }
        // Plain names keep their spelling; others get an identifier of their own.
        let id = if name.chars().all(identifier_char)
            && name.chars().next().is_some_and(|c| !c.is_ascii_digit())
            && !name.starts_with("__p")
        {
            name.clone()
        } else {
            format!("__p{}", names.len())
        };
        names.push((name, id.clone()));
        id
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '`' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '`')
                    .ok_or_else(|| {
                        format!(
                            "the backtick at position {} is not closed; write `name with spaces`",
                            i + 1
                        )
                    })?;
                let name: String = chars[i + 1..i + 1 + end].iter().collect();
                if name.trim().is_empty() {
                    return Err(format!("empty property name `` at position {}", i + 1));
                }
                let id = use_name(name, &mut names);
                out.push(' ');
                out += &id;
                out.push(' ');
                i += end + 2;
                continue;
            }
            c if c.is_ascii_digit() || (c == '.' && next.is_some_and(|n| n.is_ascii_digit())) => {
                let start = i;
                let mut float = false;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    float |= chars[i] == '.';
                    i += 1;
                }
                if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                    let mut j = i + 1;
                    if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                        j += 1;
                    }
                    if j < chars.len() && chars[j].is_ascii_digit() {
                        float = true;
                        i = j;
                        while i < chars.len() && chars[i].is_ascii_digit() {
                            i += 1;
                        }
                    }
                }
                if i < chars.len() && identifier_char(chars[i]) {
                    let word: String = chars[start..]
                        .iter()
                        .take_while(|&&c| identifier_char(c) || c == '.')
                        .collect();
                    return Err(format!(
                        "\"{word}\" at position {} is neither a number nor a property name; write a name that starts with a digit in backticks: `{word}`",
                        start + 1
                    ));
                }
                let number: String = chars[start..i].iter().collect();
                if number.matches('.').count() > 1 {
                    return Err(format!(
                        "\"{number}\" at position {} is not a number; use a point for decimals and no thousands separators",
                        start + 1
                    ));
                }
                out.push(' ');
                out += &number;
                if !float {
                    out += ".0";
                }
                out.push(' ');
                continue;
            }
            c if identifier_char(c) => {
                let start = i;
                while i < chars.len() && identifier_char(chars[i]) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                match word.to_ascii_lowercase().as_str() {
                    "and" => out += " && ",
                    "or" => out += " || ",
                    "not" => out += " !",
                    "true" | "false" => out += &word.to_ascii_lowercase(),
                    _ => {
                        // A function name is followed by a parenthesis; anything else is a
                        // property.
                        let rest = chars[i..].iter().find(|c| !c.is_whitespace());
                        if rest == Some(&'(') && FUNCTIONS.contains(&word.as_str()) {
                            out += &word;
                        } else if rest == Some(&'(') {
                            return Err(format!(
                                "unknown function \"{word}\"; the functions are min, max and if"
                            ));
                        } else {
                            let id = use_name(word, &mut names);
                            out.push(' ');
                            out += &id;
                            out.push(' ');
                        }
                    }
                }
                continue;
            }
            '=' => {
                out += "==";
                i += if next == Some('=') { 2 } else { 1 };
                continue;
            }
            '<' if next == Some('>') => {
                out += "!=";
                i += 2;
                continue;
            }
            '<' | '>' | '!' if next == Some('=') => {
                out.push(c);
                out.push('=');
                i += 2;
                continue;
            }
            '&' | '|' if next == Some(c) => {
                out.push(c);
                out.push(c);
                i += 2;
                continue;
            }
            '+' | '-' | '*' | '/' | '(' | ')' | ',' | '<' | '>' | '!' => out.push(c),
            c if c.is_whitespace() => out.push(' '),
            other => {
                return Err(format!(
                    "unexpected \"{other}\" at position {}; expressions use numbers, property names (in backticks when they hold spaces or other characters), + - * / ( ), comparisons, and, or, not, min, max, if",
                    i + 1
                ))
            }
        }
        i += 1;
    }
    Ok((out, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with<'a>(values: &'a [(&'a str, f64)]) -> impl Fn(&str) -> Result<f64, String> + 'a {
        move |name| {
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| *v)
                .ok_or_else(|| format!("property \"{name}\" is missing"))
        }
    }

    #[test]
    fn arithmetic_in_floats() {
        let e = Expression::parse("pop * (1 - 0.5 * sgb2_rate)").unwrap();
        assert_eq!(e.names().collect::<Vec<_>>(), vec!["pop", "sgb2_rate"]);
        let w = e
            .number(with(&[("pop", 1000.0), ("sgb2_rate", 0.2)]))
            .unwrap();
        assert!((w - 900.0).abs() < 1e-9);
        assert_eq!(
            Expression::parse("1/2").unwrap().number(with(&[])).unwrap(),
            0.5
        );
        assert_eq!(
            Expression::parse("2e3 + .5")
                .unwrap()
                .number(with(&[]))
                .unwrap(),
            2000.5
        );
    }

    #[test]
    fn backticks_words_and_functions() {
        let e = Expression::parse(
            "if(`SGB II-Quote` > 0.12 and not (Einwohner < 500), min(Einwohner, 9000), max(0, `Einwohner` / 2))",
        )
        .unwrap();
        assert_eq!(
            e.names().collect::<Vec<_>>(),
            vec!["SGB II-Quote", "Einwohner"]
        );
        let v = |q: f64, p: f64| e.number(with(&[("SGB II-Quote", q), ("Einwohner", p)]));
        assert_eq!(v(0.2, 10000.0).unwrap(), 9000.0);
        assert_eq!(v(0.1, 10000.0).unwrap(), 5000.0);
        assert_eq!(v(0.2, 400.0).unwrap(), 200.0);
        let c = Expression::parse("a = 1 or b <> 2 OR a >= 3").unwrap();
        assert!(c.truth(with(&[("a", 1.0), ("b", 2.0)])).unwrap());
        assert!(!c.truth(with(&[("a", 2.0), ("b", 2.0)])).unwrap());
        let umlaut = Expression::parse("Ausländeranteil * 2").unwrap();
        assert_eq!(umlaut.names().collect::<Vec<_>>(), vec!["Ausländeranteil"]);
    }

    #[test]
    fn errors_say_what_is_wrong() {
        for (text, expected) in [
            ("pop * ", "cannot read the expression"),
            ("sqrt(pop)", "unknown function \"sqrt\""),
            ("`pop", "not closed"),
            ("pop; 3", "unexpected \";\""),
            ("\"pop\"", "unexpected \"\"\""),
            ("1.234.5", "not a number"),
            ("2pop", "neither a number nor a property name"),
            ("", "empty"),
        ] {
            let err = Expression::parse(text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
        let e = Expression::parse("pop > 3").unwrap();
        assert!(e
            .number(with(&[("pop", 1.0)]))
            .unwrap_err()
            .contains("a number was expected"));
        assert!(Expression::parse("pop")
            .unwrap()
            .truth(with(&[("pop", 1.0)]))
            .unwrap_err()
            .contains("not true or false"));
        assert!(Expression::parse("pop / 0")
            .unwrap()
            .number(with(&[("pop", 1.0)]))
            .unwrap_err()
            .contains("division by zero"));
        assert_eq!(
            Expression::parse("x + 1")
                .unwrap()
                .number(with(&[]))
                .unwrap_err(),
            "property \"x\" is missing"
        );
    }
}
