" Checks the Vim syntax on an example: run from the repository root with
"   vim -Nu NONE -i NONE -es -S editors/vim/test.vim
" It exits 0 when every expectation holds, 1 (printing them) when not.
set nocompatible
let &runtimepath = getcwd() . '/editors/vim,' . &runtimepath
filetype plugin on
syntax on
let s:errors = []

function! s:Expect(pattern, group) abort
  call cursor(1, 1)
  let pos = searchpos(a:pattern, 'cW')
  if pos == [0, 0]
    call add(s:errors, 'not found: ' . a:pattern)
    return
  endif
  let name = synIDattr(synID(pos[0], pos[1], 1), 'name')
  if name !=# a:group
    call add(s:errors, printf('%s at %d:%d is %s, expected %s', a:pattern, pos[0], pos[1], name, a:group))
  endif
endfunction

edit examples/hobbyists.market
if &filetype !=# 'market'
  call add(s:errors, 'filetype is "' . &filetype . '", expected market')
endif
call s:Expect('^# hobbyists', 'marketComment')
call s:Expect('^market', 'marketDeclaration')
call s:Expect('market \zshobbyists', 'marketDeclName')
call s:Expect('^provider', 'marketDeclaration')
call s:Expect('provider \zsdeepseek-v4-flash', 'marketDeclName')
call s:Expect('^  \zsprice =', 'marketField')
call s:Expect('0\.08224', 'marketNumber')
call s:Expect('0\.08224 \zsusd', 'marketUnit')
call s:Expect('\~ \zslognormal', 'marketDistribution')
call s:Expect('\~ \zsdiscrete', 'marketDistribution')
call s:Expect('gumbel', 'marketDistribution')
call s:Expect('segment tinkerers \zschooser', 'marketKeyword')
call s:Expect('\<owns\>', 'marketKeyword')
call s:Expect(' \zsin 0', 'marketKeyword')
call s:Expect('\<step\>', 'marketKeyword')
call s:Expect('\.\.', 'marketOperator')
call s:Expect('maximize \zsprofit', 'marketFunction')
call s:Expect('^maximize', 'marketDeclaration')
call s:Expect('^solve \zsexact', 'marketSolver')
call s:Expect('# median', 'marketComment')

edit examples/regions.market
call s:Expect('^import', 'marketDeclaration')
call s:Expect('"shared', 'marketString')
call s:Expect('^table', 'marketDeclaration')
call s:Expect('region_ttft \zsfrom', 'marketKeyword')

if len(s:errors)
  for e in s:errors
    verbose echo e
  endfor
  cquit 1
endif
qall!
