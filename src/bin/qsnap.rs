qplan::tool_main!(qplan::cmd::qsnap::Args);
