" prillm .market files
autocmd BufRead,BufNewFile *.market setfiletype market
