qplan::tool_main!(qplan::cmd::qwhatif::Args);
