qplan::tool_main!(qplan::cmd::qplan::Args);
