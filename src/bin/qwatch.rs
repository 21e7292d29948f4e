qplan::tool_main!(qplan::cmd::qwatch::Args);
