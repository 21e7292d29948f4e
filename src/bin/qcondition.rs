qplan::tool_main!(qplan::cmd::qcondition::Args);
