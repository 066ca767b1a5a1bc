//! Case-sensitive glob patterns with `*` (any run of characters) and `?` (one character).
//!
//! Hand-written rather than a regex: the syntax is two wildcards, matching is linear-ish with
//! one backtrack point, and a rule author cannot write a pattern that explodes.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Star,
    Any,
    Literal(char),
}

/// A compiled pattern.
#[derive(Clone, PartialEq, Eq)]
pub struct Glob {
    source: String,
    tokens: Vec<Token>,
}

/// Why a pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GlobError {
    #[error("is empty; use \"*\" to match anything")]
    Empty,
    #[error(
        "contains {0:?}: only * and ? are special, character classes, braces and escapes are not supported"
    )]
    Unsupported(char),
}

impl Glob {
    pub fn new(pattern: &str) -> Result<Self, GlobError> {
        if pattern.is_empty() {
            return Err(GlobError::Empty);
        }
        let mut tokens = Vec::with_capacity(pattern.len());
        for c in pattern.chars() {
            tokens.push(match c {
                '*' if tokens.last() == Some(&Token::Star) => continue,
                '*' => Token::Star,
                '?' => Token::Any,
                '[' | ']' | '{' | '}' | '\\' => return Err(GlobError::Unsupported(c)),
                c => Token::Literal(c),
            });
        }
        Ok(Self {
            source: pattern.to_owned(),
            tokens,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Classic wildcard matching: on a mismatch, let the last `*` swallow one more character.
    pub fn matches(&self, text: &str) -> bool {
        let tokens = &self.tokens;
        let (mut pi, mut ti) = (0usize, 0usize);
        let mut resume: Option<(usize, usize)> = None;
        loop {
            let next = text[ti..].chars().next();
            match (tokens.get(pi), next) {
                (Some(Token::Star), _) => {
                    pi += 1;
                    resume = Some((pi, ti));
                    continue;
                }
                (Some(Token::Any), Some(c)) => {
                    pi += 1;
                    ti += c.len_utf8();
                    continue;
                }
                (Some(Token::Literal(l)), Some(c)) if *l == c => {
                    pi += 1;
                    ti += c.len_utf8();
                    continue;
                }
                (None, None) => return true,
                _ => {}
            }
            let Some((star_pi, star_ti)) = resume else {
                return false;
            };
            let Some(swallowed) = text[star_ti..].chars().next() else {
                return false;
            };
            let star_ti = star_ti + swallowed.len_utf8();
            resume = Some((star_pi, star_ti));
            pi = star_pi;
            ti = star_ti;
        }
    }
}

impl fmt::Debug for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Glob({:?})", self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(p: &str, t: &str) -> bool {
        Glob::new(p).unwrap().matches(t)
    }

    #[test]
    fn wildcards() {
        assert!(m("*", ""));
        assert!(m("*", "anything"));
        assert!(m("prod-*", "prod-eu"));
        assert!(!m("prod-*", "staging"));
        assert!(m("*Trivy*", "Trivy-scanner"));
        assert!(m("*Trivy*", "robot$Trivy"));
        assert!(!m("*Trivy*", "trivy"), "case-sensitive");
        assert!(m("v?.?", "v2.7"));
        assert!(!m("v?.?", "v2.10"));
        assert!(m("harbor.quota.*", "harbor.quota.exceeded"));
        assert!(m("a*b*c", "aXbYbZc"));
        assert!(!m("a*b*c", "aXbYbZ"));
        assert!(m("é?", "éß"));
    }

    #[test]
    fn bad_patterns_are_refused() {
        assert_eq!(Glob::new(""), Err(GlobError::Empty));
        assert_eq!(Glob::new("prod-[ab]"), Err(GlobError::Unsupported('[')));
        assert_eq!(Glob::new("{a,b}"), Err(GlobError::Unsupported('{')));
    }

    /// Reference implementation: plain recursion, exponential but obviously right.
    fn reference(p: &[char], t: &[char]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some('*'), _) => reference(&p[1..], t) || (!t.is_empty() && reference(p, &t[1..])),
            (Some('?'), Some(_)) => reference(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => reference(&p[1..], &t[1..]),
            _ => false,
        }
    }

    proptest! {
        #[test]
        fn agrees_with_reference(p in "[ab*?]{1,8}", t in "[ab]{0,10}") {
            let pc: Vec<char> = p.chars().collect();
            let tc: Vec<char> = t.chars().collect();
            prop_assert_eq!(Glob::new(&p).unwrap().matches(&t), reference(&pc, &tc));
        }
    }
}
