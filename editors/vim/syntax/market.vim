" Vim syntax for prillm .market files (the grammar: grammar/market.pest).
if exists('b:current_syntax')
  finish
endif

syn case match
syn iskeyword @,48-57,_,-

" Declarations and other keywords (the kw_ rules of grammar/market.pest).
syn keyword marketDeclaration market qos provider user segment firm table nextgroup=marketDeclName skipwhite
syn keyword marketDeclaration import weights maximize subject to solve
syn keyword marketKeyword owns from unit chooser congestion pairwise default in step per weight
syn keyword marketSolver exact milp network
syn match marketDeclName /[A-Za-z_][A-Za-z0-9_-]*/ contained

" Calls in objectives and constraints, and distributions.
syn match marketFunction /\<\(profit\|revenue\|share\|price\|load\)\ze\s*(/
syn match marketDistribution /\<\(normal\|lognormal\|uniform\|gumbel\|discrete\)\ze\s*(/

" A field being set at the start of a line.
syn match marketField /^\s*\zs[A-Za-z_][A-Za-z0-9_-]*\ze\s*\(=\|\~\|\[\|in\>\)/

" Numbers, then their units (unit words of compiler/src/check/units.rs).
syn match marketNumber /\<\d[0-9_]*\(\.[0-9_]*\)\=\([eE][+-]\=\d\+\)\=/
syn keyword marketUnit usd tok ktok mtok btok ms s min hour day week month
syn match marketUnit /%/

syn match marketOperator /<=\|>=\|==\|\.\.\|[=~@*+\/<>-]/
syn region marketString start=/"/ skip=/\\"/ end=/"/ oneline
syn match marketComment /#.*$/ contains=@Spell

hi def link marketDeclaration Keyword
hi def link marketKeyword Keyword
hi def link marketSolver Constant
hi def link marketDeclName Type
hi def link marketFunction Function
hi def link marketDistribution Function
hi def link marketField Identifier
hi def link marketNumber Number
hi def link marketUnit Special
hi def link marketOperator Operator
hi def link marketString String
hi def link marketComment Comment

let b:current_syntax = 'market'
