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

#[test]
fn a_blank_line_after_an_empty_block_is_kept() {
    check(
        "permission a.b \"A\"\nrole r \"R\" {}\n\nrole s \"S\" { grants a.b }\n",
        "permission a.b \"A\"\nrole r \"R\" {}\n\nrole s \"S\" {\n  grants a.b\n}\n",
    );
    check(
        "permission a.b \"A\"\nrole r \"R\" {\n}\n\n// next\nrole s \"S\" {}\n",
        "permission a.b \"A\"\nrole r \"R\" {}\n\n// next\nrole s \"S\" {}\n",
    );
}

#[test]
fn an_on_list_is_never_split() {
    let tiers =
        "t01, t02, t03, t04, t05, t06, t07, t08, t09, t10, t11, t12, t13, t14, t15, t16, t17, t18";
    let input = format!(
        "tiers t01 < t02 < t03 < t04 < t05 < t06 < t07 < t08 < t09 < t10 < t11 < t12 < t13 < t14 < t15 < t16 < t17 < t18\n\
         permission aaaa.bbbb \"A\"\npermission aaaa.cccc \"C\"\n\
         role r \"R\" {{ grants aaaa.bbbb, aaaa.cccc on {tiers} }}\n"
    );
    let out = format(&SourceFile::new("t.policy", input.as_str())).unwrap();
    assert!(
        out.contains(&format!("on {tiers}\n")),
        "the on list was split:\n{out}"
    );
    // The grant list before `on` may still wrap.
    assert!(out.contains("  grants aaaa.bbbb,\n"), "{out}");
}
