qplan::tool_main!(qplan::cmd::qpull::Args);
