//! Resolution of the dimensions (`tiers`, `dimension`) and of `on` clauses
//! into sets of contexts, with their diagnostics.

use policy_syntax::{
    did_you_mean, CmpOp, Code, Ident, Item, PolicyFile, TierConstraint, TierSelector,
};

use super::Resolver;
use crate::context::{self, describe_dimensions};
use crate::model::*;

/// What an `offered` line is called in messages.
const OFFERED_LINE: &str = "an `offered` line";

impl Resolver<'_> {
    /// How many contexts the sets are computed for (1 when there are no
    /// dimensions: the implicit context).
    pub(super) fn tier_count(&self) -> usize {
        self.space().count().max(1)
    }

    /// The contexts: every combination of the dimensions' values, or the
    /// ones the `offered` lines select once they are resolved.
    pub(super) fn space(&self) -> context::ContextSpace<'_> {
        context::ContextSpace::new(&self.dims, self.offered.as_deref())
    }

    /// The `offered` lines: the combinations the product sells (their
    /// union) become the policy's contexts, and every later `on` clause
    /// selects among them. A line that selects nothing is `P0305`, as any
    /// clause; without any line, every combination is a context.
    pub(super) fn collect_offered(&mut self, file: &PolicyFile) {
        let mut any = false;
        let mut union = TierSet::default();
        for item in &file.items {
            let Item::Offered(decl) = item else { continue };
            any = true;
            let set = self.tier_set(Some(&decl.tiers), || OFFERED_LINE.to_string());
            union = union.union(set);
        }
        if any && !union.is_empty() {
            self.offered = Some(union.iter().map(|t| t.0).collect());
        }
    }

    /// Whether the policy speaks of tiers (none or one dimension, named
    /// `tier`) rather than dimension values, for the words of messages.
    fn speaks_of_tiers(&self) -> bool {
        match self.dims.as_slice() {
            [] => true,
            [d] => d.name == "tier",
            _ => false,
        }
    }

    pub(super) fn collect_dimensions(&mut self, file: &PolicyFile) {
        // Where each dimension is first declared: its name after
        // `dimension`, or the whole `tiers` line.
        let mut declared_at: Vec<(String, policy_syntax::Span)> = Vec::new();
        for item in &file.items {
            let Item::Tiers(decl) = item else { continue };
            let name = decl.dimension_name();
            if let Some((_, first)) = declared_at.iter().find(|(n, _)| n == name) {
                let first = Some(*first);
                let mut d = match &decl.dimension {
                    None => self
                        .diag(
                            Code::DuplicateTier,
                            "the tiers are declared more than once".to_string(),
                        )
                        .primary(decl.span, "second `tiers` declaration")
                        .help("declare every tier, lowest first, in one `tiers a < b < c` line"),
                    Some(ident) => self
                        .diag(
                            Code::DuplicateTier,
                            format!("dimension `{name}` is declared twice"),
                        )
                        .primary(ident.span, "declared again here")
                        .help(if name == "tier" {
                            "`tiers a < b` declares the dimension named `tier`; give this one another name"
                        } else {
                            "declare each dimension once, with all its values"
                        }),
                };
                if let Some(s) = first {
                    d = d.secondary(s, "first declared here");
                }
                self.diags.push(d);
                continue;
            }
            declared_at.push((
                name.to_string(),
                decl.dimension.as_ref().map_or(decl.span, |d| d.span),
            ));
            let unordered = match (decl.first_lt, decl.first_bar) {
                (Some(lt), Some(bar)) => {
                    let d = self
                        .diag(
                            Code::DimensionOrder,
                            format!("dimension `{name}` is both ordered and unordered"),
                        )
                        .primary(bar, "`|` says its values are unordered")
                        .secondary(lt, "`<` says they are ordered")
                        .help(
                            "separate the values with `<`, lowest first, when they are ordered \
                             (plans), or with `|` when they are not (editions)",
                        );
                    self.diags.push(d);
                    false
                }
                (None, Some(_)) => true,
                _ => false,
            };
            let mut dim = Dimension {
                name: name.to_string(),
                unordered,
                values: Vec::new(),
                span: decl.dimension.as_ref().map(|d| d.span),
            };
            let d_index = self.dims.len();
            for t in &decl.tiers {
                if let Some(&(pd, pv)) = self.value_index.get(&t.name) {
                    self.repeated_value(t, pd, pv, d_index, &dim);
                    continue;
                }
                if dim.values.len() >= MAX_TIERS {
                    let d = self
                        .diag(
                            Code::TooManyTiers,
                            format!("a policy may declare at most {MAX_TIERS} tiers"),
                        )
                        .primary(t.span, "one tier too many");
                    self.diags.push(d);
                    break;
                }
                self.value_index
                    .insert(t.name.clone(), (d_index, dim.values.len()));
                dim.values.push(Tier {
                    id: t.name.clone(),
                    span: t.span,
                });
            }
            let contexts = context::context_count(&self.dims).saturating_mul(dim.values.len());
            if contexts > MAX_TIERS {
                let at = decl.dimension.as_ref().map_or(decl.span, |d| d.span);
                let d = self
                    .diag(
                        Code::TooManyTiers,
                        format!(
                            "the dimensions combine into {contexts} contexts; a policy may have at most {MAX_TIERS}"
                        ),
                    )
                    .primary(at, format!("its {} values make it {contexts}", dim.values.len()))
                    .help(format!(
                        "a context is one value of each dimension; the others are {}",
                        describe_dimensions(&self.dims)
                    ));
                self.diags.push(d);
                self.value_index.retain(|_, (d, _)| *d != d_index);
                continue;
            }
            self.dims.push(dim);
        }
    }

    /// Reports a value named twice: in its own dimension, or in another.
    fn repeated_value(&mut self, t: &Ident, pd: usize, pv: usize, d_index: usize, dim: &Dimension) {
        let (prev_span, prev_dim) = if pd == d_index {
            (dim.values.get(pv).map(|v| v.span), dim.name.as_str())
        } else {
            let prev = self.dims.get(pd);
            (
                prev.and_then(|p| p.values.get(pv)).map(|v| v.span),
                prev.map_or("", |p| p.name.as_str()),
            )
        };
        let mut d = if pd == d_index {
            self.diag(
                Code::DuplicateTier,
                format!("tier `{}` is named twice", t.name),
            )
            .primary(t.span, "named again here")
            .help("each tier appears once in the order; remove the repetition")
        } else {
            self.diag(
                Code::DuplicateTier,
                format!("`{}` is already a value of dimension `{prev_dim}`", t.name),
            )
            .primary(t.span, format!("named again in dimension `{}`", dim.name))
            .help(
                "a value names its dimension on its own (`on cloud and >= pro`), so values \
                 are unique across dimensions; rename one",
            )
        };
        if let Some(s) = prev_span {
            d = d.secondary(s, "first named here");
        }
        self.diags.push(d);
    }

    /// Resolves an optional `on ...` clause into the contexts it selects;
    /// `what` names the constrained thing (built only when there is
    /// something to report). A term naming an unknown value selects only
    /// its known values (none for a range), so a mistake grants less.
    pub(super) fn tier_set(
        &mut self,
        constraint: Option<&TierConstraint>,
        what: impl FnOnce() -> String,
    ) -> TierSet {
        let all = TierSet::all(self.tier_count());
        let Some(c) = constraint else { return all };
        let mut set = TierSet::default();
        let mut unknown = false;
        for alternative in c.alternatives() {
            let mut conj = all;
            for term in alternative {
                let (term_set, bad) = self.term_set(term);
                unknown |= bad;
                conj = conj.intersection(term_set);
            }
            set = set.union(conj);
        }
        if set.is_empty() && !unknown {
            let d = if self.speaks_of_tiers() {
                self.diag(
                    Code::EmptyTierConstraint,
                    format!("{} is available on no tier", what()),
                )
                .primary(c.span, "this selects no tier")
                .help(format!(
                    "the tiers, lowest first, are: {}",
                    self.dims
                        .iter()
                        .flat_map(|d| &d.values)
                        .map(|t| format!("`{}`", t.id))
                        .collect::<Vec<_>>()
                        .join(" < ")
                ))
            } else {
                self.diag(
                    Code::EmptyTierConstraint,
                    // `what` names the thing the clause limits; an `offered`
                    // line limits nothing but the product (`offers`).
                    match what() {
                        w if w == OFFERED_LINE => format!("{w} offers no context"),
                        w => format!("{w} is available in no context"),
                    },
                )
                .primary(c.span, "no context has all of these")
                .help(if self.offered.is_some() {
                    format!(
                        "the contexts this product offers (its `offered` lines) are {}",
                        self.space()
                            .contexts()
                            .iter()
                            .map(|t| format!("`{}`", t.id))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                } else {
                    format!(
                        "a context is one value of each dimension: {}",
                        describe_dimensions(&self.dims)
                    )
                })
            };
            self.diags.push(d);
        }
        set
    }

    /// The contexts one term selects, and whether it named something
    /// unknown or invalid (already reported).
    fn term_set(&mut self, term: &TierSelector) -> (TierSet, bool) {
        let mut bad = false;
        let mut set = TierSet::default();
        match term {
            TierSelector::List(list) => {
                let mut first: Option<(usize, &Ident)> = None;
                for t in list {
                    let Some((d, v)) = self.lookup_value(t) else {
                        bad = true;
                        continue;
                    };
                    match first {
                        Some((d0, f)) if d0 != d => {
                            let name = |i: usize| {
                                self.dims.get(i).map_or("", |x| x.name.as_str()).to_string()
                            };
                            let (a, b) = (name(d0), name(d));
                            let diag = self
                                .diag(
                                    Code::MixedDimensions,
                                    format!("`{}` and `{}` are values of different dimensions", f.name, t.name),
                                )
                                .primary(t.span, format!("a value of `{b}`"))
                                .secondary(f.span, format!("a value of `{a}`"))
                                .help(format!(
                                    "a list selects values of one dimension; join terms on different \
                                     dimensions with `and`: `on {} and {}`",
                                    f.name, t.name
                                ));
                            self.diags.push(diag);
                            bad = true;
                            continue;
                        }
                        None => first = Some((d, t)),
                        _ => {}
                    }
                    set = set.union(self.space().select(d, |x| x == v));
                }
            }
            TierSelector::Range { op, tier } => {
                let Some((d, v)) = self.lookup_value(tier) else {
                    return (set, true);
                };
                if let Some(dim) = self.dims.get(d).filter(|x| x.unordered) {
                    let values: Vec<String> =
                        dim.values.iter().map(|x| format!("`{}`", x.id)).collect();
                    let diag = self
                        .diag(
                            Code::UnorderedRange,
                            format!(
                                "`{}` compares values of dimension `{}`, which are unordered",
                                op.as_str(),
                                dim.name
                            ),
                        )
                        .primary(tier.span, format!("a value of `{}`, declared with `|`", dim.name))
                        .help(format!(
                            "list the values meant instead ({}), or declare `{}` with `<` if its values are ordered",
                            values.join(", "),
                            dim.name
                        ));
                    self.diags.push(diag);
                    return (set, true);
                }
                let op = *op;
                set = self.space().select(d, |x| match op {
                    CmpOp::Ge => x >= v,
                    CmpOp::Gt => x > v,
                    CmpOp::Le => x <= v,
                    CmpOp::Lt => x < v,
                });
            }
        }
        (set, bad)
    }

    /// A value by name: its (dimension, value) indexes, or an unknown-name
    /// diagnostic with a did-you-mean.
    fn lookup_value(&mut self, t: &Ident) -> Option<(usize, usize)> {
        if let Some(&found) = self.value_index.get(&t.name) {
            return Some(found);
        }
        let mut names: Vec<&str> = self
            .dims
            .iter()
            .flat_map(|d| d.values.iter().map(|v| v.id.as_str()))
            .collect();
        names.sort_unstable();
        let suggestion = did_you_mean(&t.name, names.iter().copied());
        let d = if self.speaks_of_tiers() {
            let help = if self.dims.is_empty() {
                "this policy declares no tiers; declare them first, lowest first: `tiers free < team < enterprise`".to_string()
            } else {
                format!(
                    "the declared tiers are {}",
                    self.dims
                        .iter()
                        .flat_map(|d| &d.values)
                        .map(|t| format!("`{}`", t.id))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            self.diag(Code::UnknownTier, format!("unknown tier `{}`", t.name))
                .primary(t.span, "not a declared tier")
                .help(help)
        } else {
            self.diag(Code::UnknownTier, format!("unknown value `{}`", t.name))
                .primary(t.span, "no dimension has this value")
                .help(format!(
                    "the dimensions are {}",
                    describe_dimensions(&self.dims)
                ))
        };
        self.diags.push(d.suggest(suggestion));
        None
    }

    /// A role's assignability within its availability: contexts its
    /// `assignable on` lines select where it is not available are
    /// reported (`P0313`) and left out, so a mistake assigns less.
    pub(super) fn assignable_within(
        &mut self,
        role: &str,
        role_on: Option<policy_syntax::Span>,
        available: TierSet,
        set: TierSet,
        at: policy_syntax::Span,
    ) -> TierSet {
        let outside = set.difference(available);
        if let Some(first) = outside.iter().next() {
            let name = self
                .space()
                .contexts()
                .get(first.index())
                .map_or_else(String::new, |t| t.id.clone());
            let more = outside.iter().count() - 1;
            let also = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            let mut d = self
                .diag(
                    Code::AssignableUnavailable,
                    format!("role `{role}` is assignable where it does not exist"),
                )
                .primary(at, format!("selects `{name}`{also}, where `{role}` is not available"))
                .help(
                    "a role can only be given where it exists; narrow `assignable on`, or widen the role's `on`",
                );
            if let Some(on) = role_on {
                d = d.secondary(self.clause_span(on), format!("`{role}` exists only here"));
            }
            self.diags.push(d);
        }
        set.intersection(available)
    }

    /// A permission's `label "…" on …` clauses, within its availability
    /// (a clause words the row where the permission exists): a clause that
    /// selects no context where the permission exists, or one an earlier
    /// clause already labels, is `P0314` (the earlier clause keeps it).
    pub(super) fn context_labels(
        &mut self,
        decl: &policy_syntax::PermissionDecl,
        available: TierSet,
    ) -> Vec<ContextLabel> {
        let mut out: Vec<ContextLabel> = Vec::new();
        if decl.labels.is_empty() {
            return out;
        }
        let mut taken = TierSet::default();
        let name = |space: context::ContextSpace<'_>, set: TierSet| -> String {
            set.iter()
                .next()
                .and_then(|t| space.contexts().get(t.index()).cloned())
                .map_or_else(String::new, |t| format!("`{}`", t.id))
        };
        for l in &decl.labels {
            let set = self.tier_set(Some(&l.tiers), || {
                format!("a label of permission `{}`", decl.id.name)
            });
            let at = self.clause_span(l.span);
            if !set.is_empty() && set.0 & available.0 == 0 {
                let mut d = self
                    .diag(
                        Code::ContextLabelConflict,
                        format!(
                            "permission `{}` is labelled only where it does not exist",
                            decl.id.name
                        ),
                    )
                    .primary(
                        at,
                        format!(
                            "selects {}, where `{}` does not exist",
                            name(self.space(), set),
                            decl.id.name
                        ),
                    )
                    .help("a label words the row where the permission exists; narrow the label's `on`, or widen the permission's");
                if let Some(on) = &decl.tiers {
                    d = d.secondary(self.clause_span(on.span), "the permission exists only here");
                }
                self.diags.push(d);
            }
            let again = set.intersection(taken).intersection(available);
            if !again.is_empty() {
                let first = out
                    .iter()
                    .find(|x| x.tiers.0 & again.0 != 0)
                    .map(|x| x.span);
                let mut d = self
                    .diag(
                        Code::ContextLabelConflict,
                        format!(
                            "permission `{}` has two labels in {}",
                            decl.id.name,
                            name(self.space(), again)
                        ),
                    )
                    .primary(at, "labels it again here")
                    .help("each context has one wording; make the labels' `on` clauses disjoint");
                if let Some(s) = first {
                    d = d.secondary(s, "first labelled here");
                }
                self.diags.push(d);
            }
            let keep = set.intersection(available).difference(taken);
            taken = taken.union(keep);
            if !keep.is_empty() {
                out.push(ContextLabel {
                    label: l.label.value.clone(),
                    tiers: keep,
                    span: at,
                });
            }
        }
        out
    }
}
