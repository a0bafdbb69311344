var x = (1 + ;
