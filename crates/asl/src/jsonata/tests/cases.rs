//! Cases per area, with expectations recorded from jsonata-js 2.0.6: `U` is undefined,
//! `E:code` an error with that code, anything else the JSON value.

use super::check;

/// Singleton sequences, arrays, `[]`, predicates on flattened paths, `$` and `$$`.
#[test]
fn paths_and_sequences() {
    check(&[
        (
            r#"name"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#""Fred""#,
        ),
        (
            r#"phone.number"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"["0203","01962","077"]"#,
        ),
        (
            r#"phone[0].number"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#""0203""#,
        ),
        (
            r#"phone[0]"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"{"type":"home","number":"0203"}"#,
        ),
        (
            r#"(phone)[0]"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"{"type":"home","number":"0203"}"#,
        ),
        (
            r#"phone.number[0]"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"["0203","01962","077"]"#,
        ),
        (
            r#"(phone.number)[0]"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#""0203""#,
        ),
        (
            r#"phone[0][]"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"[{"type":"home","number":"0203"}]"#,
        ),
        (
            r#"phone[type='office'].number"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#""01962""#,
        ),
        (
            r#"phone[type='office'].number[]"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"["01962"]"#,
        ),
        (
            r#"phone[-1].type"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#""mobile""#,
        ),
        (
            r#"phone[[0,2]].type"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"["home","mobile"]"#,
        ),
        (
            r#"phone[0.7].type"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#""home""#,
        ),
        (
            r#"addr.geo"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"[1,2]"#,
        ),
        (
            r#"addr.geo[]"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"[1,2]"#,
        ),
        (
            r#"addr.city[]"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"["W"]"#,
        ),
        (
            r#"nest"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"[[1,2],[3,[4]]]"#,
        ),
        (
            r#"nest[0]"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"[1,2]"#,
        ),
        (
            r#"nest.$"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"[1,2,3,[4]]"#,
        ),
        (
            r#"nest[1][1]"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"[4]"#,
        ),
        (
            r#"o.a"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"[1,2,3,4]"#,
        ),
        (
            r#"o.a[0]"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"[1,3,4]"#,
        ),
        (
            r#"o.a[]"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"[1,2,3,4]"#,
        ),
        (
            r#"empty"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"[]"#,
        ),
        (
            r#"empty[0]"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"U"#,
        ),
        (
            r#"missing"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"U"#,
        ),
        (
            r#"missing[]"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"U"#,
        ),
        (
            r#"$"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
        ),
        (
            r#"$$.name"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#""Fred""#,
        ),
        (
            r#"$.addr.city"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#""W""#,
        ),
        (
            r#"*.city"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#""W""#,
        ),
        (
            r#"**.number"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"["0203","01962","077"]"#,
        ),
        (
            r#"addr.*"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"["W",1,2]"#,
        ),
        (
            r#"$count(phone)"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"3"#,
        ),
        (
            r#"phone.$count($)"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"[1,1,1]"#,
        ),
        (
            r#"[name, addr.city]"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"["Fred","W"]"#,
        ),
        (
            r#"[phone.number]"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"["0203","01962","077"]"#,
        ),
        (
            r#"phone.[number]"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"[["0203"],["01962"],["077"]]"#,
        ),
        (
            r#"phone.[type, number]"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"[["home","0203"],["office","01962"],["mobile","077"]]"#,
        ),
        (
            r#"[[1,2],[3]][0]"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"[1,2]"#,
        ),
        (
            r#"[1,2,3][]"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"[1,2,3]"#,
        ),
        (
            r#"{"a":[1]}.a"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"[1]"#,
        ),
        (
            r#"$string(name)"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#""Fred""#,
        ),
        (
            r#""name""#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#""name""#,
        ),
        (
            r#"`name`"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#""Fred""#,
        ),
        (
            r#"phone[type="home" or type="mobile"].number"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"["0203","077"]"#,
        ),
        (
            r#"phone[number]"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}]"#,
        ),
        (
            r#"phone[$]"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#"[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}]"#,
        ),
        (
            r#"phone.type[$ = "home"]"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#""home""#,
        ),
        (
            r#"$.phone[0].number"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#""0203""#,
        ),
        (
            r#"phone[0 + 1].type"#,
            r#"{"name":"Fred","phone":[{"type":"home","number":"0203"},{"type":"office","number":"01962"},{"type":"mobile","number":"077"}],"addr":{"city":"W","geo":[1,2]},"nest":[[1,2],[3,[4]]],"empty":[],"o":[{"a":[1,2]},{"a":[3]},{"a":4}]}"#,
            r#""office""#,
        ),
    ]);
}

#[test]
fn top_level_array() {
    check(&[
        (r#"$"#, r#"[{"a":1},{"a":2},[3,4]]"#, r#"[{"a":1},{"a":2},[3,4]]"#),
        (r#"$[0]"#, r#"[{"a":1},{"a":2},[3,4]]"#, r#"{"a":1}"#),
        (r#"a"#, r#"[{"a":1},{"a":2},[3,4]]"#, r#"[1,2]"#),
        (r#"$.a"#, r#"[{"a":1},{"a":2},[3,4]]"#, r#"[1,2]"#),
        (r#"$[1].a"#, r#"[{"a":1},{"a":2},[3,4]]"#, r#"2"#),
        (r#"$count($)"#, r#"[{"a":1},{"a":2},[3,4]]"#, r#"3"#),
        (r#"$[2]"#, r#"[{"a":1},{"a":2},[3,4]]"#, r#"[3,4]"#),
        (r#"$[2][0]"#, r#"[{"a":1},{"a":2},[3,4]]"#, r#"3"#),
        (r#"*"#, r#"[{"a":1},{"a":2},[3,4]]"#, r#"[{"a":1},{"a":2},3,4]"#),
    ]);
}

/// Arithmetic, comparison, string concatenation, `in`, boolean logic, conditionals, ranges.
#[test]
fn operators() {
    check(&[
        (r#"1 + 2 * 3"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"7"#),
        (r#"7 % 3"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"1"#),
        (r#"-7 % 3"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"-1"#),
        (r#"10 / 4"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"2.5"#),
        (r#"1 / 0"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"null"#),
        (r#"n + missing"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"U"#),
        (r#"missing + n"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"U"#),
        (r#""a" + 1"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"E:T2001"#),
        (r#"1 + "a""#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"E:T2002"#),
        (r#"s & n & t & null"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#""x5truenull""#),
        (r#"s & arr"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#""x[1,2,3]""#),
        (r#"s & obj"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#""x{\"k\":1}""#),
        (r#"1.1 + 2.2"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"3.3000000000000003"#),
        (r#"0.1 + 0.2 & """#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#""0.3""#),
        (r#"1 = 1.0"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"true"#),
        (r#""1" = 1"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"false"#),
        (r#"arr = [1,2,3]"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"true"#),
        (r#"obj = {"k":1}"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"true"#),
        (r#"missing = missing"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"false"#),
        (r#"missing != 1"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"false"#),
        (r#"1 < 2"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"true"#),
        (r#""a" < "b""#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"true"#),
        (r#""a" < 1"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"E:T2009"#),
        (r#"true < 1"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"E:T2010"#),
        (r#"missing < 1"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"U"#),
        (r#"2 in arr"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"true"#),
        (r#""1" in arr"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"false"#),
        (r#"4 in 4"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"true"#),
        (r#"obj in [obj]"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"true"#),
        (r#"t and missing"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"false"#),
        (r#"t or missing"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"true"#),
        (r#"0 or """#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"false"#),
        (r#"n > 3 ? "big" : "small""#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#""big""#),
        (r#"n > 9 ? "big""#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"U"#),
        (r#"[1..5]"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"[1,2,3,4,5]"#),
        (r#"[5..1]"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"[]"#),
        (r#"[1..n]"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"[1,2,3,4,5]"#),
        (r#"[0..2, 5..6]"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"[0,1,2,5,6]"#),
        (r#"[1.5..3]"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"E:T2003"#),
        (r#"[1..missing]"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"[]"#),
        (r#"-n"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"-5"#),
        (r#"-s"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"E:D1002"#),
        (r#"--n"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"5"#),
        (r#"$x := 3"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"3"#),
        (r#"($x := 3; $x * $x)"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"9"#),
        (r#"($x := 3; ($x := 4); $x)"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"3"#),
        (r#"(1; 2; 3)"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"3"#),
        (r#"()"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"U"#),
        (r#"/* comment */ 1"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"1"#),
        (r#"[1,2,3][$ > 1]"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"[2,3]"#),
        (r#"1e3"#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#"1000"#),
        (r#"0.5e-7 & """#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#""5e-8""#),
        (
            r#"123456789012345678901 & """#,
            r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#,
            r#""123456789012346000000""#,
        ),
        (r#"1e21 & """#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#""1e+21""#),
        (r#"-0.0000001 & """#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#""-1e-7""#),
        (r#"100 & """#, r#"{"n":5,"s":"x","arr":[1,2,3],"obj":{"k":1},"t":true}"#, r#""100""#),
    ]);
}

#[test]
fn functions_basic() {
    check(&[
        (
            r#"$string(n)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""-3.7""#,
        ),
        (
            r#"$string(o)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""{\"a\":1,\"b\":[2,3]}""#,
        ),
        (
            r#"$string(o, true)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""{\n  \"a\": 1,\n  \"b\": [\n    2,\n    3\n  ]\n}""#,
        ),
        (
            r#"$string(1/3)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""0.333333333333333""#,
        ),
        (
            r#"$string(true)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""true""#,
        ),
        (
            r#"$string([1, "a", null])"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""[1,\"a\",null]""#,
        ),
        (
            r#"$string()"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""{\"s\":\"Hello World\",\"n\":-3.7,\"arr\":[3,1,2],\"strs\":[\"b\",\"a\",\"c\"],\"o\":{\"a\":1,\"b\":[2,3]}}""#,
        ),
        (
            r#"$length(s)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"11"#,
        ),
        (
            r#"$length("😀x")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"2"#,
        ),
        (
            r#"$substring(s, 6)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""World""#,
        ),
        (
            r#"$substring(s, -5, 3)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""Wor""#,
        ),
        (
            r#"$substring(s, 3, -1)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""""#,
        ),
        (
            r#"$substringBefore(s, " ")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""Hello""#,
        ),
        (
            r#"$substringAfter(s, " ")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""World""#,
        ),
        (
            r#"$substringAfter(s, "zz")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""Hello World""#,
        ),
        (
            r#"$uppercase(s)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""HELLO WORLD""#,
        ),
        (
            r#"$lowercase(s)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""hello world""#,
        ),
        (
            r#"$trim("  a \t\n b  ")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""a b""#,
        ),
        (
            r#"$pad("ab", 5)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""ab   ""#,
        ),
        (
            r#"$pad("ab", -5, "xy")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""xyxab""#,
        ),
        (
            r#"$pad("ab", 1)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""ab""#,
        ),
        (
            r#"$contains(s, "World")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"true"#,
        ),
        (
            r#"$contains(s, /w.r/i)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"true"#,
        ),
        (
            r#"$split("a,b,,c", ",")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"["a","b","","c"]"#,
        ),
        (
            r#"$split("a,b,c", ",", 2)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"["a","b"]"#,
        ),
        (
            r#"$split("a1b22c", /[0-9]+/)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"["a","b","c"]"#,
        ),
        (
            r#"$split("abc", "")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"["a","b","c"]"#,
        ),
        (
            r#"$split("a,b", ",", -1)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"E:D3020"#,
        ),
        (
            r#"$join(strs, "-")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""b-a-c""#,
        ),
        (
            r#"$join(strs)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""bac""#,
        ),
        (
            r#"$join([1,2])"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"E:T0412"#,
        ),
        (
            r#"$match("ab12cd345", /[0-9]+/)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"[{"match":"12","index":2,"groups":[]},{"match":"345","index":6,"groups":[]}]"#,
        ),
        (
            r#"$match("ab12cd345", /([a-z])([0-9])/)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"[{"match":"b1","index":1,"groups":["b","1"]},{"match":"d3","index":5,"groups":["d","3"]}]"#,
        ),
        (
            r#"$match("xyz", /[0-9]+/)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"U"#,
        ),
        (
            r#"$replace(s, "o", "0")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""Hell0 W0rld""#,
        ),
        (
            r#"$replace(s, "o", "0", 1)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""Hell0 World""#,
        ),
        (
            r#"$replace(s, /(o)(r)?/, "[$1|$2]")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""Hell[o|] W[o|r]ld""#,
        ),
        (
            r#"$replace("abc", /b/, function($m){ $uppercase($m.match) })"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""aBc""#,
        ),
        (
            r#"$replace("abc", "", "x")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"E:D3010"#,
        ),
        (
            r#"$replace("abc", /x*/, "y")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"E:D1004"#,
        ),
        (
            r#"$replace("a$b", "$", "$$")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""a$$b""#,
        ),
        (
            r#"$replace("abc", /(b)/, "$$1")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""a$1c""#,
        ),
        (
            r#"$base64encode("hello:world")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""aGVsbG86d29ybGQ=""#,
        ),
        (
            r#"$base64decode("aGVsbG86d29ybGQ=")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""hello:world""#,
        ),
        (
            r#"$encodeUrlComponent("a b&c=d/é")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""a%20b%26c%3Dd%2F%C3%A9""#,
        ),
        (
            r#"$encodeUrl("https://x.org/a b?q=é&r=1#f")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""https://x.org/a%20b?q=%C3%A9&r=1#f""#,
        ),
        (
            r#"$decodeUrlComponent("a%20b%26")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""a b&""#,
        ),
        (
            r#"$decodeUrl("a%20b%26")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""a b%26""#,
        ),
        (
            r#"$decodeUrlComponent("%E0%A4%A")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"E:D3140"#,
        ),
        (
            r#"$number("12.5")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"12.5"#,
        ),
        (
            r#"$number("0x1F")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"31"#,
        ),
        (
            r#"$number("0b101")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"5"#,
        ),
        (
            r#"$number("0o17")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"15"#,
        ),
        (
            r#"$number(" 12 ")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"E:D3030"#,
        ),
        (
            r#"$number("1e3")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"1000"#,
        ),
        (
            r#"$number(true)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"1"#,
        ),
        (
            r#"$number(null)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"E:T0410"#,
        ),
        (
            r#"$number("abc")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"E:D3030"#,
        ),
        (
            r#"$abs(n)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"3.7"#,
        ),
        (
            r#"$floor(n)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"-4"#,
        ),
        (
            r#"$ceil(n)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"-3"#,
        ),
        (
            r#"$round(2.5)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"2"#,
        ),
        (
            r#"$round(3.5)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"4"#,
        ),
        (
            r#"$round(-2.5)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"-2"#,
        ),
        (
            r#"$round(2.675, 2)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"2.68"#,
        ),
        (
            r#"$round(1250, -2)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"1200"#,
        ),
        (
            r#"$round(1350, -2)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"1400"#,
        ),
        (
            r#"$power(2, 10)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"1024"#,
        ),
        (
            r#"$power(-1, 0.5)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"E:D3061"#,
        ),
        (
            r#"$sqrt(16)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"4"#,
        ),
        (
            r#"$sqrt(-1)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"E:D3060"#,
        ),
        (
            r#"$formatBase(255, 16)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""ff""#,
        ),
        (
            r#"$formatBase(-10, 2)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""-1010""#,
        ),
        (
            r#"$formatBase(2.5, 2)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""10""#,
        ),
        (
            r#"$formatBase(10, 40)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"E:D3100"#,
        ),
        (
            r#"$sum(arr)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"6"#,
        ),
        (
            r#"$sum([])"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"0"#,
        ),
        (
            r#"$sum(5)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"5"#,
        ),
        (
            r#"$sum([1, "a"])"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"E:T0412"#,
        ),
        (
            r#"$max(arr)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"3"#,
        ),
        (
            r#"$min(arr)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"1"#,
        ),
        (
            r#"$average(arr)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"2"#,
        ),
        (
            r#"$max([])"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"U"#,
        ),
        (
            r#"$boolean(0)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"false"#,
        ),
        (
            r#"$boolean("")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"false"#,
        ),
        (
            r#"$boolean([0, 1])"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"true"#,
        ),
        (
            r#"$boolean([])"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"false"#,
        ),
        (
            r#"$boolean({})"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"false"#,
        ),
        (
            r#"$boolean(function(){1})"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"false"#,
        ),
        (
            r#"$not(true)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"false"#,
        ),
        (
            r#"$not(missing)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"U"#,
        ),
        (
            r#"$exists(missing)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"false"#,
        ),
        (
            r#"$exists(0)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"true"#,
        ),
        (
            r#"$count(arr)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"3"#,
        ),
        (
            r#"$count(missing)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"0"#,
        ),
        (
            r#"$count(5)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"1"#,
        ),
        (
            r#"$append(arr, 4)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"[3,1,2,4]"#,
        ),
        (
            r#"$append(1, [2])"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"[1,2]"#,
        ),
        (
            r#"$append(missing, 1)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"1"#,
        ),
        (
            r#"$sort(arr)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"[1,2,3]"#,
        ),
        (
            r#"$sort(strs)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"["a","b","c"]"#,
        ),
        (
            r#"$sort([1, "a"])"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"E:D3070"#,
        ),
        (
            r#"$sort(o.b, function($a, $b){ $a < $b })"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"[3,2]"#,
        ),
        (
            r#"$reverse(arr)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"[2,1,3]"#,
        ),
        (
            r#"$distinct([1,2,1,"1",[1],[1]])"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"[1,2,"1",[1]]"#,
        ),
        (
            r#"$distinct([{"a":1},{"a":1}])"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"[{"a":1}]"#,
        ),
        (
            r#"$zip([1,2],[3,4],[5])"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"[[1,3,5]]"#,
        ),
        (
            r#"$zip([1,2])"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"[[1],[2]]"#,
        ),
        (
            r#"$keys(o)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"["a","b"]"#,
        ),
        (
            r#"$keys([{"a":1},{"b":2,"a":3}])"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"["a","b"]"#,
        ),
        (
            r#"$keys("x")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"U"#,
        ),
        (
            r#"$lookup(o, "b")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"[2,3]"#,
        ),
        (
            r#"$lookup([{"a":[1,2]},{"a":3}], "a")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"[1,2,3]"#,
        ),
        (
            r#"$spread(o)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"[{"a":1},{"b":[2,3]}]"#,
        ),
        (
            r#"$spread([{"a":1,"b":2}, 3])"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"[{"a":1},{"b":2},3]"#,
        ),
        (
            r#"$merge([{"a":1},{"b":2},{"a":3}])"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"{"a":3,"b":2}"#,
        ),
        (
            r#"$merge([])"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"{}"#,
        ),
        (
            r#"$sift(o, function($v){ $type($v) = "array" })"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"{"b":[2,3]}"#,
        ),
        (
            r#"$sift(o, function($v, $k){ $k = "zz" })"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"U"#,
        ),
        (
            r#"$each(o, function($v, $k){ $k & "=" & $string($v) })"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"["a=1","b=[2,3]"]"#,
        ),
        (
            r#"$type(o)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""object""#,
        ),
        (
            r#"$type(arr)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""array""#,
        ),
        (
            r#"$type(null)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""null""#,
        ),
        (
            r#"$type(missing)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"U"#,
        ),
        (
            r#"$type(1)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""number""#,
        ),
        (
            r#"$type("a")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""string""#,
        ),
        (
            r#"$type($sum)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""function""#,
        ),
        (
            r#"$error("boom")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"E:D3137"#,
        ),
        (
            r#"$assert(false, "nope")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"E:D3141"#,
        ),
        (
            r#"$assert(1 = 1, "ok")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"U"#,
        ),
        (
            r#"$assert("x")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"E:T0410"#,
        ),
        (
            r#"$uppercase()"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"E:T0411"#,
        ),
        (
            r#"$uppercase(1)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"E:T0410"#,
        ),
        (
            r#"$substring("abc", "1")"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"E:T0410"#,
        ),
        (
            r#"$sum(1, 2)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"E:T0410"#,
        ),
        (
            r#"$map([1], missing)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#"E:T0410"#,
        ),
        (
            r#"s.$uppercase()"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""HELLO WORLD""#,
        ),
        (
            r#"s.$substring(6)"#,
            r#"{"s":"Hello World","n":-3.7,"arr":[3,1,2],"strs":["b","a","c"],"o":{"a":1,"b":[2,3]}}"#,
            r#""World""#,
        ),
    ]);
}

#[test]
fn higher_order() {
    check(&[
        (
            r#"$map([1,2,3], function($v){ $v * 2 })"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"[2,4,6]"#,
        ),
        (
            r#"$map([1,2,3], function($v, $i){ $v * $i })"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"[0,2,6]"#,
        ),
        (
            r#"$map([1,2,3], function($v, $i, $a){ $count($a) })"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"[3,3,3]"#,
        ),
        (
            r#"$map([1,2], $string)"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"["1","2"]"#,
        ),
        (
            r#"$map(["a","b"], $uppercase)"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"["A","B"]"#,
        ),
        (
            r#"$map(5, function($v){ $v + 1 })"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"6"#,
        ),
        (
            r#"$map([1,2,3], function($v){ $v > 1 ? $v })"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"[2,3]"#,
        ),
        (
            r#"$filter([1,2,3,4], function($v){ $v % 2 = 0 })"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"[2,4]"#,
        ),
        (
            r#"$filter([1,2,3,4], function($v, $i){ $i < 2 })"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"[1,2]"#,
        ),
        (
            r#"$filter([1,2,3], function($v){ $v > 5 })"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"U"#,
        ),
        (
            r#"$single([1,2,3], function($v){ $v = 2 })"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"2"#,
        ),
        (
            r#"$single([1,2,3], function($v){ $v > 1 })"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"E:D3138"#,
        ),
        (
            r#"$single([1,2,3], function($v){ $v > 5 })"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"E:D3139"#,
        ),
        (
            r#"$single([7])"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"7"#,
        ),
        (
            r#"$reduce([1,2,3,4], function($a, $b){ $a + $b })"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"10"#,
        ),
        (
            r#"$reduce([1,2,3,4], function($a, $b){ $a + $b }, 10)"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"20"#,
        ),
        (
            r#"$reduce([1,2,3], function($a, $b, $i){ $a + $i })"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"4"#,
        ),
        (
            r#"$reduce([], function($a, $b){ $a + $b })"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"U"#,
        ),
        (
            r#"$reduce([1,2], function($a){ $a })"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"E:D3050"#,
        ),
        (
            r#"$sort(orders, function($a, $b){ $a.total > $b.total }).id"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"["A-1","C-3","B-2"]"#,
        ),
        (
            r#"$map($sort(orders, function($a,$b){ $a.total > $b.total }), function($o){ $o.id })"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"["A-1","C-3","B-2"]"#,
        ),
        (
            r#"orders[status='open' and total > 100].id"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#""B-2""#,
        ),
        (
            r#"$sum(orders.(total * 2))"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"640"#,
        ),
        (
            r#"orders.{ 'id': id, 'amount': $round(total * 1.075, 2), 'tag': $uppercase(status) }"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"[{"id":"A-1","amount":53.75,"tag":"OPEN"},{"id":"B-2","amount":161.25,"tag":"OPEN"},{"id":"C-3","amount":129,"tag":"CLOSED"}]"#,
        ),
        (
            r#"$join(orders.($substringBefore(id, '-') & ':' & $string(total)), ',')"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#""A:50,B:150,C:120""#,
        ),
        (
            r#"orders^(>total).id"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"["B-2","C-3","A-1"]"#,
        ),
        (
            r#"orders^(status, >total).id"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"["C-3","B-2","A-1"]"#,
        ),
        (
            r#"orders{status: $sum(total)}"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"{"open":200,"closed":120}"#,
        ),
        (
            r#"orders{status: id}"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"{"open":["A-1","B-2"],"closed":"C-3"}"#,
        ),
        (
            r#"orders{status: id[]}"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"{"open":["A-1","B-2"],"closed":["C-3"]}"#,
        ),
        (
            r#"orders.{status: id}"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"[{"open":"A-1"},{"open":"B-2"},{"closed":"C-3"}]"#,
        ),
        (
            r#"{"a": 1, "b": missing}"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"{"a":1}"#,
        ),
        (
            r#"orders{id: total}.*"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"{}"#,
        ),
        (
            r#"{"k": 1}{"x": 1}"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"{"x":1}"#,
        ),
        (
            r#"orders{total: id}"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"E:T1003"#,
        ),
        (
            r#"orders{"x": 1, "x": 2}"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"E:D1009"#,
        ),
        (
            r#"($f := function($x){ $x * 2 }; $f(4))"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"8"#,
        ),
        (
            r#"(function($x, $y){ $x + $y })(1, 2)"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"3"#,
        ),
        (
            r#"($add := function($x){ function($y){ $x + $y } }; $add(2)(3))"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"5"#,
        ),
        (
            r#"($sub := function($a, $b){ $a - $b }; $s := $sub(?, 1); $s(10))"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"9"#,
        ),
        (
            r#"($sub := function($a, $b){ $a - $b }; $s := $sub(10, ?); $s(1))"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"9"#,
        ),
        (
            r#""abc" ~> $uppercase"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#""ABC""#,
        ),
        (
            r#""abc" ~> $substring(1)"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#""bc""#,
        ),
        (
            r#""abc" ~> $substring(?, 2)"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#""c""#,
        ),
        (
            r#"($f := $uppercase ~> $substring(?, 1); $f("abc"))"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#""BC""#,
        ),
        (
            r#"[3,1,2] ~> $sort ~> $reverse"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"[3,2,1]"#,
        ),
        (
            r#"1 ~> 2"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"E:T2006"#,
        ),
        (
            r#"function($x)<n:n>{ $x + 1 }(2)"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"3"#,
        ),
        (
            r#"function($x)<n:n>{ $x + 1 }("a")"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"E:T0410"#,
        ),
        (
            r#"function($x)<s-:s>{ $x }()"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"E:T0411"#,
        ),
        (
            r#"(λ($x){ $x * 3 })(2)"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"6"#,
        ),
        (
            r#"($f := function($n){ $n <= 1 ? 1 : $n * $f($n - 1) }; $f(10))"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"3628800"#,
        ),
        (
            r#"($loop := function($i, $acc){ $i = 0 ? $acc : $loop($i - 1, $acc + 1) }; $loop(100000, 0))"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"100000"#,
        ),
        (
            r#"($even := function($n){ $n = 0 ? true : $odd($n - 1) }; $odd := function($n){ $n = 0 ? false : $even($n - 1) }; $even(10001))"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"false"#,
        ),
        (
            r#"($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(500))"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"500"#,
        ),
        (
            r#"$nope(1)"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"E:T1006"#,
        ),
        (
            r#"1(2)"#,
            r#"{"orders":[{"id":"A-1","total":50,"status":"open"},{"id":"B-2","total":150,"status":"open"},{"id":"C-3","total":120,"status":"closed"}]}"#,
            r#"E:T1006"#,
        ),
    ]);
}

/// Positional `#$i` and context `@$v` bindings in path steps (joins).
#[test]
fn binding_operators() {
    check(&[
        (
            r#"people#$i.{"n": name, "i": $i}"#,
            r#"{"people":[{"id":1,"name":"Ann"},{"id":2,"name":"Bob"}],"pets":[{"owner":1,"pet":"cat"},{"owner":2,"pet":"dog"},{"owner":1,"pet":"fish"}],"l":[{"a":[1,2]},{"a":[3,4]}]}"#,
            r#"[{"n":"Ann","i":0},{"n":"Bob","i":1}]"#,
        ),
        (
            r#"people#$i[$i > 0].name"#,
            r#"{"people":[{"id":1,"name":"Ann"},{"id":2,"name":"Bob"}],"pets":[{"owner":1,"pet":"cat"},{"owner":2,"pet":"dog"},{"owner":1,"pet":"fish"}],"l":[{"a":[1,2]},{"a":[3,4]}]}"#,
            r#""Bob""#,
        ),
        (
            r#"people[id > 0]#$i.{"n": name, "i": $i}"#,
            r#"{"people":[{"id":1,"name":"Ann"},{"id":2,"name":"Bob"}],"pets":[{"owner":1,"pet":"cat"},{"owner":2,"pet":"dog"},{"owner":1,"pet":"fish"}],"l":[{"a":[1,2]},{"a":[3,4]}]}"#,
            r#"[{"n":"Ann","i":0},{"n":"Bob","i":1}]"#,
        ),
        (
            r#"l.a#$i.{"v": $, "i": $i}"#,
            r#"{"people":[{"id":1,"name":"Ann"},{"id":2,"name":"Bob"}],"pets":[{"owner":1,"pet":"cat"},{"owner":2,"pet":"dog"},{"owner":1,"pet":"fish"}],"l":[{"a":[1,2]},{"a":[3,4]}]}"#,
            r#"[{"v":1,"i":0},{"v":2,"i":1},{"v":3,"i":0},{"v":4,"i":1}]"#,
        ),
        (
            r#"people@$p.pets[owner = $p.id].{"who": $p.name, "pet": pet}"#,
            r#"{"people":[{"id":1,"name":"Ann"},{"id":2,"name":"Bob"}],"pets":[{"owner":1,"pet":"cat"},{"owner":2,"pet":"dog"},{"owner":1,"pet":"fish"}],"l":[{"a":[1,2]},{"a":[3,4]}]}"#,
            r#"[{"who":"Ann","pet":"cat"},{"who":"Ann","pet":"fish"},{"who":"Bob","pet":"dog"}]"#,
        ),
        (
            r#"people@$p.pets[owner = $p.id]{$p.name: pet}"#,
            r#"{"people":[{"id":1,"name":"Ann"},{"id":2,"name":"Bob"}],"pets":[{"owner":1,"pet":"cat"},{"owner":2,"pet":"dog"},{"owner":1,"pet":"fish"}],"l":[{"a":[1,2]},{"a":[3,4]}]}"#,
            r#"{"Ann":["cat","fish"],"Bob":"dog"}"#,
        ),
        (
            r#"people@$p.pets[owner = $p.id]^(pet).pet"#,
            r#"{"people":[{"id":1,"name":"Ann"},{"id":2,"name":"Bob"}],"pets":[{"owner":1,"pet":"cat"},{"owner":2,"pet":"dog"},{"owner":1,"pet":"fish"}],"l":[{"a":[1,2]},{"a":[3,4]}]}"#,
            r#"["cat","dog","fish"]"#,
        ),
        (
            r#"people@$p.$p.name"#,
            r#"{"people":[{"id":1,"name":"Ann"},{"id":2,"name":"Bob"}],"pets":[{"owner":1,"pet":"cat"},{"owner":2,"pet":"dog"},{"owner":1,"pet":"fish"}],"l":[{"a":[1,2]},{"a":[3,4]}]}"#,
            r#"["Ann","Bob"]"#,
        ),
        (
            r#"$.people@$p#$i.{"i": $i, "n": $p.name}"#,
            r#"{"people":[{"id":1,"name":"Ann"},{"id":2,"name":"Bob"}],"pets":[{"owner":1,"pet":"cat"},{"owner":2,"pet":"dog"},{"owner":1,"pet":"fish"}],"l":[{"a":[1,2]},{"a":[3,4]}]}"#,
            r#"[{"i":0,"n":"Ann"},{"i":1,"n":"Bob"}]"#,
        ),
    ]);
}

#[test]
fn transform() {
    check(&[
        (
            r#"$ ~> |items|{"qty": qty * 10}|"#,
            r#"{"items":[{"sku":"a","qty":1,"tmp":true},{"sku":"b","qty":2,"tmp":false}],"meta":{"v":1}}"#,
            r#"{"items":[{"sku":"a","qty":10,"tmp":true},{"sku":"b","qty":20,"tmp":false}],"meta":{"v":1}}"#,
        ),
        (
            r#"$ ~> |items|{"qty": qty * 10}, "tmp"|"#,
            r#"{"items":[{"sku":"a","qty":1,"tmp":true},{"sku":"b","qty":2,"tmp":false}],"meta":{"v":1}}"#,
            r#"{"items":[{"sku":"a","qty":10},{"sku":"b","qty":20}],"meta":{"v":1}}"#,
        ),
        (
            r#"$ ~> |items[sku="b"]|{}, ["tmp", "qty"]|"#,
            r#"{"items":[{"sku":"a","qty":1,"tmp":true},{"sku":"b","qty":2,"tmp":false}],"meta":{"v":1}}"#,
            r#"{"items":[{"sku":"a","qty":1,"tmp":true},{"sku":"b"}],"meta":{"v":1}}"#,
        ),
        (
            r#"$ ~> |meta|{"v": 2, "w": 3}|"#,
            r#"{"items":[{"sku":"a","qty":1,"tmp":true},{"sku":"b","qty":2,"tmp":false}],"meta":{"v":1}}"#,
            r#"{"items":[{"sku":"a","qty":1,"tmp":true},{"sku":"b","qty":2,"tmp":false}],"meta":{"v":2,"w":3}}"#,
        ),
        (
            r#"$ ~> |$|{"top": true}|"#,
            r#"{"items":[{"sku":"a","qty":1,"tmp":true},{"sku":"b","qty":2,"tmp":false}],"meta":{"v":1}}"#,
            r#"{"items":[{"sku":"a","qty":1,"tmp":true},{"sku":"b","qty":2,"tmp":false}],"meta":{"v":1},"top":true}"#,
        ),
        (
            r#"items ~> |$|{"x": 1}|"#,
            r#"{"items":[{"sku":"a","qty":1,"tmp":true},{"sku":"b","qty":2,"tmp":false}],"meta":{"v":1}}"#,
            r#"[{"sku":"a","qty":1,"tmp":true,"x":1},{"sku":"b","qty":2,"tmp":false,"x":1}]"#,
        ),
        (
            r#"$ ~> |items|"bad"|"#,
            r#"{"items":[{"sku":"a","qty":1,"tmp":true},{"sku":"b","qty":2,"tmp":false}],"meta":{"v":1}}"#,
            r#"E:T2011"#,
        ),
        (
            r#"$ ~> |items|{}, 5|"#,
            r#"{"items":[{"sku":"a","qty":1,"tmp":true},{"sku":"b","qty":2,"tmp":false}],"meta":{"v":1}}"#,
            r#"E:T2012"#,
        ),
        (
            r#"(| meta | {"v": 9} |)(meta)"#,
            r#"{"items":[{"sku":"a","qty":1,"tmp":true},{"sku":"b","qty":2,"tmp":false}],"meta":{"v":1}}"#,
            r#"{"v":1}"#,
        ),
        (
            r#"5 ~> |$|{}|"#,
            r#"{"items":[{"sku":"a","qty":1,"tmp":true},{"sku":"b","qty":2,"tmp":false}],"meta":{"v":1}}"#,
            r#"E:T0410"#,
        ),
    ]);
}

/// Syntax added after 2.0.6 is rejected; errors carry the reference's codes.
#[test]
fn errors_and_syntax() {
    check(&[
        (r#"a ?? b"#, r#"null"#, r#"E:S0211"#),
        (r#"a ?: b"#, r#"null"#, r#"E:S0211"#),
        (r#"1 +"#, r#"null"#, r#"E:S0207"#),
        (r#"(1"#, r#"null"#, r#"E:S0203"#),
        (r#""abc"#, r#"null"#, r#"E:S0101"#),
        (r#"[1,2"#, r#"null"#, r#"E:S0203"#),
        (r#"a.1"#, r#"null"#, r#"E:S0213"#),
        (r#"$x["#, r#"null"#, r#"E:S0203"#),
        (r#"{"a" 1}"#, r#"null"#, r#"E:S0202"#),
        (r#"function($x { $x }"#, r#"null"#, r#"E:S0202"#),
        (r#"$f := "#, r#"null"#, r#"E:S0207"#),
        (r#"%"#, r#"null"#, r#"E:S0217"#),
        (r#"1..3"#, r#"null"#, r#"E:S0201"#),
        (r#"[1..1e8]"#, r#"null"#, r#"E:D2014"#),
        (r#"[1..2.5]"#, r#"null"#, r#"E:T2004"#),
        (r#"["a"..2]"#, r#"null"#, r#"E:T2003"#),
        (r#"{"a": 1} < 1"#, r#"null"#, r#"E:T2010"#),
        (r#"{1: 2}"#, r#"null"#, r#"E:T1003"#),
        (r#"$string(1/0)"#, r#"null"#, r#"E:D3001"#),
        (r#"/abc"#, r#"null"#, r#"E:S0302"#),
    ]);
}

#[test]
fn more_paths() {
    check(&[
        (
            r#"a.b.c"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"[1,2,3]"#,
        ),
        (
            r#"a.b[0].c"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"[1,3]"#,
        ),
        (
            r#"a.b.c[0]"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"[1,2,3]"#,
        ),
        (
            r#"(a.b.c)[0]"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"1"#,
        ),
        (
            r#"a[0].b[1]"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"{"c":2}"#,
        ),
        (
            r#"a.b[c > 1].c"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"[2,3]"#,
        ),
        (
            r#"x.y"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"[[1,2],[3]]"#,
        ),
        (
            r#"x.y[0]"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"[1,2]"#,
        ),
        (
            r#"x.y[][0]"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"[1,2]"#,
        ),
        (
            r#"x.y.$"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"[1,2,3]"#,
        ),
        (
            r#"x.y.[$]"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"[[1,2],[3]]"#,
        ),
        (
            r#"s^(k).v"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"[1,3,2,0]"#,
        ),
        (
            r#"s^(>k).v"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"[2,1,3,0]"#,
        ),
        (
            r#"s^(k, >v).v"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"[3,1,2,0]"#,
        ),
        (
            r#"s^(v)[0].v"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"0"#,
        ),
        (
            r#"s^(k)[-1].v"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"0"#,
        ),
        (
            r#"s.k"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"["b","a","a"]"#,
        ),
        (
            r#"s{k: v}"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"{"b":2,"a":[1,3]}"#,
        ),
        (
            r#"s{k: $sum(v)}"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"{"b":2,"a":4}"#,
        ),
        (
            r#"s{k: v[]}"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"{"b":[2],"a":[1,3]}"#,
        ),
        (
            r#"**.f"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"1"#,
        ),
        (
            r#"d.**"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"[{"e":{"f":1,"g":[2,{"h":3}]}},{"f":1,"g":[2,{"h":3}]},1,2,{"h":3},3]"#,
        ),
        (
            r#"d.*.*"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"[1,2,{"h":3}]"#,
        ),
        (
            r#"d.e.g.h"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"3"#,
        ),
        (
            r#"d.e.g[1].h"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"3"#,
        ),
        (
            r#"$.d.e.f"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"1"#,
        ),
        (
            r#"$$.d.e.f"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"1"#,
        ),
        (
            r#"$count(a.b)"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"3"#,
        ),
        (
            r#"$count(a.b[])"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"3"#,
        ),
        (
            r#"a.b.c.$string()"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"["1","2","3"]"#,
        ),
        (
            r#"a.b.c.($ * 10)"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"[10,20,30]"#,
        ),
        (
            r#"[a.b.c].($ * 2)"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"[2,4,6]"#,
        ),
        (
            r#"{"r": a.b.c}"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"{"r":[1,2,3]}"#,
        ),
        (
            r#"{"r": a.b.c[]}"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"{"r":[1,2,3]}"#,
        ),
        (
            r#"a.{"c": b.c}"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"[{"c":[1,2]},{"c":3}]"#,
        ),
        (
            r#"$sum(a.b.c)"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"6"#,
        ),
        (
            r#"a.b.c ~> $sum"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"6"#,
        ),
        (
            r#"$map(a.b, function($v){ $v.c })"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"[1,2,3]"#,
        ),
        (
            r#"a.(b.c)"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"[1,2,3]"#,
        ),
        (
            r#"a[b.c = 3].b.c"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"3"#,
        ),
        (
            r#"a[b.c = 2]"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"U"#,
        ),
        (
            r#"s[k][v > 1].v"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"[2,3]"#,
        ),
        (
            r#"s[-1]"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"{"k":"a","v":3}"#,
        ),
        (
            r#"s[99]"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"U"#,
        ),
        (
            r#"s[0, 1]"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"E:S0202"#,
        ),
        (
            r#"x.y[[0]]"#,
            r#"{"a":[{"b":[{"c":1},{"c":2}]},{"b":{"c":3}}],"x":{"y":[[1,2],[3]]},"s":[{"k":"b","v":2},{"k":"a","v":1},{"v":0},{"k":"a","v":3}],"d":{"e":{"f":1,"g":[2,{"h":3}]}}}"#,
            r#"[1,2]"#,
        ),
    ]);
}

/// Behaviours of jsonata-js 2.0.6 that follow from how it evaluates, kept as they are.
#[test]
fn reference_quirks() {
    check(&[
        (
            r#"$map([1,2], function($v){ $filter([5], function($x){ true }) })"#,
            r#"{"a":[{"x":1}],"o":{"k":1}}"#,
            r#"[[5],[5]]"#,
        ),
        (r#"(function(){ $keys({"a":1}) })()"#, r#"{"a":[{"x":1}],"o":{"k":1}}"#, r#""a""#),
        (r#"$each({"a": 1}, function($v, $k, $o){ $keys($o) })"#, r#"{"a":[{"x":1}],"o":{"k":1}}"#, r#"["a"]"#),
        (r#"1 / 0"#, r#"{"a":[{"x":1}],"o":{"k":1}}"#, r#"null"#),
        (r#"(1 / 0) + 1"#, r#"{"a":[{"x":1}],"o":{"k":1}}"#, r#"E:D1001"#),
        (r#"$type(1 / 0)"#, r#"{"a":[{"x":1}],"o":{"k":1}}"#, r#"E:D1001"#),
        (r#"[1, 2, 3][$ = 2][]"#, r#"{"a":[{"x":1}],"o":{"k":1}}"#, r#"[2]"#),
        (r#"[].a"#, r#"{"a":[{"x":1}],"o":{"k":1}}"#, r#"[]"#),
        (r#"nothing{"x": 1}"#, r#"{"a":[{"x":1}],"o":{"k":1}}"#, r#"{"x":1}"#),
        (r#"nothing{"x": 1}[0]"#, r#"{"a":[{"x":1}],"o":{"k":1}}"#, r#"{"x":1}"#),
        (r#"a[0]@$x"#, r#"{"a":[{"x":1}],"o":{"k":1}}"#, r#"E:S0215"#),
        (r#"a^(x)@$v"#, r#"{"a":[{"x":1}],"o":{"k":1}}"#, r#"E:S0216"#),
        (r#"$nope(?, 1)"#, r#"{"a":[{"x":1}],"o":{"k":1}}"#, r#"E:T1008"#),
        (r#"$match("abc", /x*/)"#, r#"{"a":[{"x":1}],"o":{"k":1}}"#, r#"E:D1004"#),
        (r#"$split("abc", /x*/)"#, r#"{"a":[{"x":1}],"o":{"k":1}}"#, r#"E:D1004"#),
        (r#"$contains("abc", /x*/)"#, r#"{"a":[{"x":1}],"o":{"k":1}}"#, r#"true"#),
        (r#"$substring("abcdef", 1.6, 2.4)"#, r#"{"a":[{"x":1}],"o":{"k":1}}"#, r#""bcd""#),
        (r#"$base64encode("héllo")"#, r#"{"a":[{"x":1}],"o":{"k":1}}"#, r#""aOlsbG8=""#),
        (r#"$base64decode("aOlsbG8=")"#, r#"{"a":[{"x":1}],"o":{"k":1}}"#, r#""héllo""#),
        (r#"function($a)<(sq)>{ 1 }(1)"#, r#"{"a":[{"x":1}],"o":{"k":1}}"#, r#"E:T0410"#),
    ]);
}

/// Rounding half to even on decimal digits, number text as JavaScript writes it.
#[test]
fn numbers() {
    check(&[
        (r#"$round(2.675, 2)"#, r#"null"#, r#"2.68"#),
        (r#"$round(1.005, 2)"#, r#"null"#, r#"1"#),
        (r#"$round(-2.675, 2)"#, r#"null"#, r#"-2.68"#),
        (r#"$round(1250, -2)"#, r#"null"#, r#"1200"#),
        (r#"$round(0.5)"#, r#"null"#, r#"0"#),
        (r#"$round(-0.5)"#, r#"null"#, r#"0"#),
        (r#"$round(1.45, 1)"#, r#"null"#, r#"1.4"#),
        (r#"$round(123.456e20, -19)"#, r#"null"#, r#"1.235e+22"#),
        (r#"$round(1e-10, 12)"#, r#"null"#, r#"1e-10"#),
        (r#"$round(12345.6789, 3)"#, r#"null"#, r#"12345.679"#),
        (r#"$string(0.1 + 0.2)"#, r#"null"#, r#""0.3""#),
        (r#"$string(1e-7)"#, r#"null"#, r#""1e-7""#),
        (r#"$string(0.000001)"#, r#"null"#, r#""0.000001""#),
        (r#"$string(123456789012345680000)"#, r#"null"#, r#""123456789012346000000""#),
        (r#"$string(-1.5e300)"#, r#"null"#, r#""-1.5e+300""#),
        (r#"$string(2/3)"#, r#"null"#, r#""0.666666666666667""#),
        (r#"$string(100)"#, r#"null"#, r#""100""#),
        (r#"$string(-0)"#, r#"null"#, r#""0""#),
        (r#"[0.1 + 0.2, 1e21, 1e-7]"#, r#"null"#, r#"[0.30000000000000004,1e+21,1e-07]"#),
        (r#"$formatBase(255, 2)"#, r#"null"#, r#""11111111""#),
        (r#"$number("-12.5e2")"#, r#"null"#, r#"-1250"#),
        (r#"$number("12.")"#, r#"null"#, r#"E:D3030"#),
        (r#"$number(".5")"#, r#"null"#, r#"E:D3030"#),
        (r#"$number("0x")"#, r#"null"#, r#"E:D3030"#),
        (r#"$number("Infinity")"#, r#"null"#, r#"E:D3030"#),
    ]);
}

/// `%`: the value the context was found in.
#[test]
fn parent_operator() {
    check(&[
        (
            r#"Phone.%.Surname"#,
            r#"{"Surname":"Smith","Phone":[{"t":1,"n":"a"},{"t":2,"n":"b"}],"Account":{"Name":"F","Order":[{"OrderID":"o1","Product":[{"P":"hat","D":{"w":1}},{"P":"cap","D":{"w":2}}]},{"OrderID":"o2","Product":{"P":"bag","D":{"w":3}}}]}}"#,
            r#"["Smith","Smith"]"#,
        ),
        (
            r#"Phone.%"#,
            r#"{"Surname":"Smith","Phone":[{"t":1,"n":"a"},{"t":2,"n":"b"}],"Account":{"Name":"F","Order":[{"OrderID":"o1","Product":[{"P":"hat","D":{"w":1}},{"P":"cap","D":{"w":2}}]},{"OrderID":"o2","Product":{"P":"bag","D":{"w":3}}}]}}"#,
            r#"[{"Surname":"Smith","Phone":[{"t":1,"n":"a"},{"t":2,"n":"b"}],"Account":{"Name":"F","Order":[{"OrderID":"o1","Product":[{"P":"hat","D":{"w":1}},{"P":"cap","D":{"w":2}}]},{"OrderID":"o2","Product":{"P":"bag","D":{"w":3}}}]}},{"Surname":"Smith","Phone":[{"t":1,"n":"a"},{"t":2,"n":"b"}],"Account":{"Name":"F","Order":[{"OrderID":"o1","Product":[{"P":"hat","D":{"w":1}},{"P":"cap","D":{"w":2}}]},{"OrderID":"o2","Product":{"P":"bag","D":{"w":3}}}]}}]"#,
        ),
        (
            r#"Phone[0].%.Surname"#,
            r#"{"Surname":"Smith","Phone":[{"t":1,"n":"a"},{"t":2,"n":"b"}],"Account":{"Name":"F","Order":[{"OrderID":"o1","Product":[{"P":"hat","D":{"w":1}},{"P":"cap","D":{"w":2}}]},{"OrderID":"o2","Product":{"P":"bag","D":{"w":3}}}]}}"#,
            r#""Smith""#,
        ),
        (
            r#"%"#,
            r#"{"Surname":"Smith","Phone":[{"t":1,"n":"a"},{"t":2,"n":"b"}],"Account":{"Name":"F","Order":[{"OrderID":"o1","Product":[{"P":"hat","D":{"w":1}},{"P":"cap","D":{"w":2}}]},{"OrderID":"o2","Product":{"P":"bag","D":{"w":3}}}]}}"#,
            r#"E:S0217"#,
        ),
        (
            r#"Phone.(%)"#,
            r#"{"Surname":"Smith","Phone":[{"t":1,"n":"a"},{"t":2,"n":"b"}],"Account":{"Name":"F","Order":[{"OrderID":"o1","Product":[{"P":"hat","D":{"w":1}},{"P":"cap","D":{"w":2}}]},{"OrderID":"o2","Product":{"P":"bag","D":{"w":3}}}]}}"#,
            r#"[{"Surname":"Smith","Phone":[{"t":1,"n":"a"},{"t":2,"n":"b"}],"Account":{"Name":"F","Order":[{"OrderID":"o1","Product":[{"P":"hat","D":{"w":1}},{"P":"cap","D":{"w":2}}]},{"OrderID":"o2","Product":{"P":"bag","D":{"w":3}}}]}},{"Surname":"Smith","Phone":[{"t":1,"n":"a"},{"t":2,"n":"b"}],"Account":{"Name":"F","Order":[{"OrderID":"o1","Product":[{"P":"hat","D":{"w":1}},{"P":"cap","D":{"w":2}}]},{"OrderID":"o2","Product":{"P":"bag","D":{"w":3}}}]}}]"#,
        ),
        (
            r#"Phone.{"s": %.Surname, "n": n}"#,
            r#"{"Surname":"Smith","Phone":[{"t":1,"n":"a"},{"t":2,"n":"b"}],"Account":{"Name":"F","Order":[{"OrderID":"o1","Product":[{"P":"hat","D":{"w":1}},{"P":"cap","D":{"w":2}}]},{"OrderID":"o2","Product":{"P":"bag","D":{"w":3}}}]}}"#,
            r#"[{"s":"Smith","n":"a"},{"s":"Smith","n":"b"}]"#,
        ),
        (
            r#"Phone.t.%"#,
            r#"{"Surname":"Smith","Phone":[{"t":1,"n":"a"},{"t":2,"n":"b"}],"Account":{"Name":"F","Order":[{"OrderID":"o1","Product":[{"P":"hat","D":{"w":1}},{"P":"cap","D":{"w":2}}]},{"OrderID":"o2","Product":{"P":"bag","D":{"w":3}}}]}}"#,
            r#"[{"t":1,"n":"a"},{"t":2,"n":"b"}]"#,
        ),
        (
            r#"Account.Order.Product.{"o": %.OrderID, "p": P}"#,
            r#"{"Surname":"Smith","Phone":[{"t":1,"n":"a"},{"t":2,"n":"b"}],"Account":{"Name":"F","Order":[{"OrderID":"o1","Product":[{"P":"hat","D":{"w":1}},{"P":"cap","D":{"w":2}}]},{"OrderID":"o2","Product":{"P":"bag","D":{"w":3}}}]}}"#,
            r#"[{"o":"o1","p":"hat"},{"o":"o1","p":"cap"},{"o":"o2","p":"bag"}]"#,
        ),
        (
            r#"Account.Order.Product.D.%.%.OrderID"#,
            r#"{"Surname":"Smith","Phone":[{"t":1,"n":"a"},{"t":2,"n":"b"}],"Account":{"Name":"F","Order":[{"OrderID":"o1","Product":[{"P":"hat","D":{"w":1}},{"P":"cap","D":{"w":2}}]},{"OrderID":"o2","Product":{"P":"bag","D":{"w":3}}}]}}"#,
            r#"["o1","o1","o2"]"#,
        ),
        (
            r#"Account.Order.Product[%.OrderID = "o2"].P"#,
            r#"{"Surname":"Smith","Phone":[{"t":1,"n":"a"},{"t":2,"n":"b"}],"Account":{"Name":"F","Order":[{"OrderID":"o1","Product":[{"P":"hat","D":{"w":1}},{"P":"cap","D":{"w":2}}]},{"OrderID":"o2","Product":{"P":"bag","D":{"w":3}}}]}}"#,
            r#""bag""#,
        ),
        (
            r#"Account.Order.Product.%.%.Name"#,
            r#"{"Surname":"Smith","Phone":[{"t":1,"n":"a"},{"t":2,"n":"b"}],"Account":{"Name":"F","Order":[{"OrderID":"o1","Product":[{"P":"hat","D":{"w":1}},{"P":"cap","D":{"w":2}}]},{"OrderID":"o2","Product":{"P":"bag","D":{"w":3}}}]}}"#,
            r#"["F","F","F"]"#,
        ),
        (
            r#"Account.Order.Product^(>%.OrderID).P"#,
            r#"{"Surname":"Smith","Phone":[{"t":1,"n":"a"},{"t":2,"n":"b"}],"Account":{"Name":"F","Order":[{"OrderID":"o1","Product":[{"P":"hat","D":{"w":1}},{"P":"cap","D":{"w":2}}]},{"OrderID":"o2","Product":{"P":"bag","D":{"w":3}}}]}}"#,
            r#"["bag","hat","cap"]"#,
        ),
    ]);
}

/// Built objects keep JavaScript's key order: array-index keys first, ascending.
#[test]
fn key_order() {
    check(&[
        (r#"$keys({"b":1,"2":2,"1":3,"a":4,"01":5,"-1":6,"10":7})"#, r#"null"#, r#"["1","2","10","b","a","01","-1"]"#),
        (r#"$string({"b":1,"2":2,"1":3})"#, r#"null"#, r#""{\"1\":3,\"2\":2,\"b\":1}""#),
        (r#"$keys($merge([{"b":1},{"3":2},{"1":0}]))"#, r#"null"#, r#"["1","3","b"]"#),
        (r#"$keys({"x":[{"k":"b"},{"k":"5"},{"k":"1"}]}.x{k: 1})"#, r#"null"#, r#"["1","5","b"]"#),
    ]);
}

/// Division by zero gives Infinity (null in a result); writing it as text is an error.
#[test]
fn infinity() {
    check(&[
        (r#"$string([1/0])"#, r#"null"#, r#"E:D1001"#),
        (r#"$string({"a": 1/0}, true)"#, r#"null"#, r#"E:D1001"#),
        (r#""x" & [1, 1/0]"#, r#"null"#, r#"E:D1001"#),
        (r#"{"a": 1/0}"#, r#"null"#, r#"{"a":null}"#),
        (r#"[1/0, 2]"#, r#"null"#, r#"[null,2]"#),
        // A leading filtered array constructor leaving one item: stepped through as
        // JavaScript indexes it (an array's items, a string's characters, else nothing).
        (r#"[{'a':'x'},{'a':''}][a].a"#, r#"null"#, r#"U"#),
        (r#"[{'a':'x'},{'a':'y'}][a].a"#, r#"null"#, r#"["x","y"]"#),
        (r#"[{'a':'x'},{'a':''}][true].a"#, r#"null"#, r#"["x",""]"#),
        (r#"([{'a':'x'},{'a':''}][a]).a"#, r#"null"#, r#""x""#),
        (r#"[{'a':'x'},{'a':''}][a]{'k': a}"#, r#"null"#, r#"{"k":"x"}"#),
        (r#"['ab'][0].$uppercase()"#, r#"null"#, r#"["A","B"]"#),
        (r#"[[{'a':1}],[{'a':2}]][0].a"#, r#"null"#, r#"1"#),
        (r#"x[a].a"#, r#"{"x":[{"a":"x"},{"a":""}]}"#, r#""x""#),
        // jsonata-js cannot partially apply $string (a defaulted JavaScript parameter).
        (r#"$map([1,2,3], $string(?))"#, r#"null"#, r#"E:S0208"#),
        (r#"$map(['ab','cd'], $substring(?, 1))"#, r#"null"#, r#"["b","d"]"#),
    ]);
}
