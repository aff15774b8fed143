-- 
Bob
