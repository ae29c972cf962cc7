//! What the layers and extractors add to every operation, written into the
//! OpenAPI document from the routes themselves instead of by hand on each:
//!
//! - every `{name}` of a path template is a declared, required path
//!   parameter (a string), whatever the handler's annotation says;
//! - errors are `application/problem+json` (the `Problem` schema), as sent;
//! - the answers any route can give are listed: 400 (`invalid_path`,
//!   `invalid_json`), 401 and 403 on authenticated routes, 413 and 415 where
//!   a body is read, 422 where a query or body is checked, 429 (rate limits).

use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, OpenApi, Ref, RefOr, Required, ResponseBuilder, Type};

const PROBLEM: &str = "application/problem+json";

/// Applies every rule above to `api`.
pub fn document(api: &mut OpenApi) {
    for (path, item) in api.paths.paths.iter_mut() {
        let names = template_names(path);
        let operations = [
            item.get.as_mut(),
            item.put.as_mut(),
            item.post.as_mut(),
            item.delete.as_mut(),
            item.patch.as_mut(),
            item.head.as_mut(),
            item.options.as_mut(),
            item.trace.as_mut(),
        ];
        for op in operations.into_iter().flatten() {
            declare_path_parameters(op, &names);
            problems_as_sent(op);
            common_answers(op, !names.is_empty());
        }
    }
}

/// The `{name}`s of a path template, in order.
pub fn template_names(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(str::to_owned)
        .collect()
}

fn declare_path_parameters(op: &mut Operation, names: &[String]) {
    let params = op.parameters.get_or_insert_with(Vec::new);
    for name in names {
        if !params.iter().any(|p| p.parameter_in == ParameterIn::Path && &p.name == name) {
            params.push(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .build(),
            );
        }
    }
    if params.is_empty() {
        op.parameters = None;
    }
}

fn is_problem(schema: &Option<RefOr<utoipa::openapi::Schema>>) -> bool {
    matches!(schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem"))
}

fn problems_as_sent(op: &mut Operation) {
    for response in op.responses.responses.values_mut() {
        let RefOr::T(response) = response else { continue };
        if let Some(json) = response.content.get("application/json")
            && is_problem(&json.schema)
        {
            let content = response.content.shift_remove("application/json").expect("just seen");
            response.content.insert(PROBLEM.to_owned(), content);
        }
    }
}

fn common_answers(op: &mut Operation, has_path_parameters: bool) {
    let authenticated = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let reads_body = op.request_body.is_some();
    let keyed =
        op.parameters.as_ref().is_some_and(|p| p.iter().any(|p| p.name == super::idempotency::HEADER));
    let checks_input = reads_body
        || op.parameters.as_ref().is_some_and(|p| p.iter().any(|p| p.parameter_in == ParameterIn::Query));
    let answers: [(&str, bool, &str); 7] = [
        (
            "400",
            reads_body || has_path_parameters || keyed,
            "`invalid_json`: the body is not JSON; `invalid_path`: a path segment is not UTF-8 or holds a control character; `invalid_idempotency_key`",
        ),
        ("401", authenticated, "`unauthorized`: no key, or an unknown or revoked one"),
        ("403", authenticated, "`forbidden`: a key of another audience"),
        ("413", reads_body, "`payload_too_large`: the body is over the limit"),
        ("415", reads_body, "`unsupported_media_type`: the body is not sent as JSON"),
        ("422", checks_input, "`validation_failed`: `errors` names each invalid field or parameter"),
        (
            "429",
            true,
            "`rate_limited`: over the key's request rate (or too many failed logins); see `Retry-After`",
        ),
    ];
    for (status, applies, description) in answers {
        if applies && !op.responses.responses.contains_key(status) {
            let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
            let response = ResponseBuilder::new().description(description).content(PROBLEM, content).build();
            op.responses.responses.insert(status.to_owned(), RefOr::T(response));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn template_names_are_read_in_order() {
        assert_eq!(super::template_names("/v1/store/carts/{id}/lines/{line_id}"), ["id", "line_id"]);
        assert!(super::template_names("/v1/store/carts").is_empty());
    }
}
