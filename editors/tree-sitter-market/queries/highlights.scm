; Highlights for prillm .market files (tree-sitter and Helix capture names).

(comment) @comment
(string) @string
(number) @number
(unit_word) @type.builtin

[
  "import" "market" "qos" "weights" "provider" "user" "segment" "firm"
  "maximize" "subject" "to" "table" "solve"
] @keyword

[
  "owns" "from" "unit" "chooser" "congestion" "pairwise" "default" "in" "step" "per" "weight"
] @keyword

(market name: (_) @type)
(qos name: (_) @type)
(provider name: (_) @type)
(user name: (_) @type)
(segment name: (_) @type)
(firm name: (_) @type)
(table name: (_) @type)

(target field: (_) @variable.other.member)
(option key: (identifier) @variable.other.member)
(subject_to label: (identifier) @label)
(distribution name: (identifier) @function.builtin)
(call function: (identifier) @function)
(solve method: (_) @constant.builtin)

[ "=" "~" ".." "@" "*" "+" "-" "/" ] @operator
(relop) @operator
[ "{" "}" "[" "]" "(" ")" ] @punctuation.bracket
[ "," ":" ] @punctuation.delimiter
