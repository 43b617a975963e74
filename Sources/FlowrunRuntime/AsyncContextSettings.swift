extension AsyncContext {
    /// The same context with other settings: a component that stands in for another (`flowrun test`'s
    /// database substitution) hands its inner component these.
    public func replacingSettings(_ settings: [String: Value]) -> AsyncContext {
        AsyncContext(
            flowName: flowName, nodeName: nodeName, runID: runID, settings: settings, globals: globals,
            isDryRun: isDryRun, redactor: redactor)
    }
}

import FlowrunValue
