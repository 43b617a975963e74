import ArgumentParser
struct Components: ParsableCommand {}
struct Graph: ParsableCommand {}
struct Docs: ParsableCommand {}
