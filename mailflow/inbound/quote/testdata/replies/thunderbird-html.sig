--
Dan Novak
