-- 
Dan Novak
