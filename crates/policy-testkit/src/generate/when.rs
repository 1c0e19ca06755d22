//! The `when` clauses the generator writes.

/// A `when` clause from drawn conditions (each modulo `conditions`, every
/// third value negated: `not ci`; a condition already named is skipped,
/// so the clause never contradicts itself): its bitmask (bit `i`: `ci`,
/// bit `32 + i`: `not ci`) and its text (`""` for none).
pub fn when_clause(drawn: &[usize], conditions: usize) -> (u64, String) {
    let mut when = 0u64;
    let mut names: Vec<String> = Vec::new();
    for &x in drawn {
        let Some(c) = x.checked_rem(conditions) else {
            continue;
        };
        let negated = (x / conditions) % 3 == 2;
        if (when >> c) & 1 != 0 || (when >> (32 + c)) & 1 != 0 {
            continue;
        }
        when |= 1 << (c + if negated { 32 } else { 0 });
        names.push(if negated {
            format!("not c{c}")
        } else {
            format!("c{c}")
        });
    }
    let text = if names.is_empty() {
        String::new()
    } else {
        format!(" when {}", names.join(" and "))
    };
    (when, text)
}
