//! Names for columns and rows that every LP/MPS reader accepts: ASCII letters, digits and
//! `_`, starting with a letter, unique, and deterministic (the same market gives the same
//! names).

use std::collections::HashSet;

#[derive(Default)]
pub(super) struct Namer {
    taken: HashSet<String>,
}

impl Namer {
    /// `prefix_part_part…`, sanitised, with `_2`, `_3`… appended on a clash.
    pub fn name(&mut self, prefix: &str, parts: &[&str]) -> String {
        let mut base = String::from(prefix);
        for p in parts {
            base.push('_');
            base.extend(
                p.chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
            );
        }
        // Readers limit names to 255 characters; keep room for a suffix.
        base.truncate(240);
        let mut name = base.clone();
        let mut k = 2;
        while !self.taken.insert(name.clone()) {
            name = format!("{base}_{k}");
            k += 1;
        }
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitises_and_deduplicates() {
        let mut n = Namer::default();
        assert_eq!(
            n.name("f", &["hobbyists#3", "gpt-5.6"]),
            "f_hobbyists_3_gpt_5_6"
        );
        assert_eq!(
            n.name("f", &["hobbyists_3", "gpt_5_6"]),
            "f_hobbyists_3_gpt_5_6_2"
        );
        assert_eq!(n.name("lam", &["café"]), "lam_caf_");
    }
}
