@_exported import FlowrunExpression
@_exported import FlowrunGraph
@_exported import FlowrunValue
@_exported import FlowrunRuntime
@_exported import FlowrunComponents
