use super::format;
use crate::source::SourceFile;

fn check(input: &str, expect: &str) {
    let out = format(&SourceFile::new("t.policy", input)).unwrap();
    assert_eq!(out, expect, "formatting:\n{input}");
    let again = format(&SourceFile::new("t.policy", out.clone())).unwrap();
    assert_eq!(again, out, "not idempotent");
}

#[test]
fn layout_and_spacing() {
    check(
        "tiers   free<team <  enterprise\npermission a.b   \"A\"  on>=team\nrole  x \"X\" on team ,enterprise{inherits y grants a.b,c.* on >= team excludes d}\nrole y \"Y\" {}\n",
        "tiers free < team < enterprise\npermission a.b \"A\" on >= team\nrole x \"X\" on team, enterprise {\n  inherits y\n  grants a.b, c.* on >= team\n  excludes d\n}\nrole y \"Y\" {}\n",
    );
}

#[test]
fn blank_lines_are_collapsed_and_trimmed() {
    check(
        "\n\n// head\n\n\n\npermission a \"A\"\n\n\n\npermission b \"B\"\nrole r \"R\" {\n\n  grants a\n\n  grants b\n\n}\n\n\n",
        "// head\n\npermission a \"A\"\n\npermission b \"B\"\nrole r \"R\" {\n  grants a\n\n  grants b\n}\n",
    );
}

#[test]
fn comments_stay_in_place() {
    check(
        "// top\n/// doc of a\n   /// more\npermission a \"A\"   // trailing   \nrole r \"R\" { // on header\n    // before grants\n  grants a // after grants\n  // last in block\n} // after block\n// end\n",
        "// top\n/// doc of a\n/// more\npermission a \"A\" // trailing\nrole r \"R\" { // on header\n  // before grants\n  grants a // after grants\n  // last in block\n} // after block\n// end\n",
    );
}

#[test]
fn comments_inside_a_statement_move_before_it() {
    check(
        "permission a \"A\"\npermission b \"B\"\nrole r \"R\" {\n  grants a, // first\n    // second\n    b\n}\n",
        "permission a \"A\"\npermission b \"B\"\nrole r \"R\" {\n  // first\n  // second\n  grants a, b\n}\n",
    );
}

#[test]
fn keywords_inside_statements_are_not_statement_starts() {
    check(
        "permission tiers \"T\" assert no role below r can tiers role r \"R\" { grants tiers }",
        "permission tiers \"T\"\nassert no role below r can tiers\nrole r \"R\" {\n  grants tiers\n}\n",
    );
}

#[test]
fn long_lists_wrap_after_commas() {
    let perms: Vec<String> = (0..12).map(|i| format!("permission.number{i}")).collect();
    let input = format!("role r \"R\" {{ grants {} on >= team }}", perms.join(","));
    let out = format(&SourceFile::new("t.policy", input)).unwrap();
    assert!(
        out.lines().all(|l| l.chars().count() <= super::MAX_WIDTH),
        "{out}"
    );
    assert!(out.contains("\n      permission.number"), "{out}");
    let again = format(&SourceFile::new("t.policy", out.clone())).unwrap();
    assert_eq!(again, out);
}

#[test]
fn line_endings_and_bom() {
    check(
        "\u{feff}permission a \"A\"\r\n\r\n\r\n// c\r\npermission b \"B\"",
        "\u{feff}permission a \"A\"\r\n\r\n// c\r\npermission b \"B\"\r\n",
    );
    check("", "");
    check("  \n\n", "");
}

#[test]
fn syntax_errors_are_returned() {
    let errs = format(&SourceFile::new("t.policy", "role r {")).unwrap_err();
    assert!(!errs.is_empty());
    assert_eq!(errs[0].code().as_str(), "P0101");
}

#[test]
fn labels_keep_their_escapes() {
    check(
        "permission a   \"say \\\"hi\\\" \\\\ {}//\"",
        "permission a \"say \\\"hi\\\" \\\\ {}//\"\n",
    );
}
